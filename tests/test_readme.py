"""Every command and code block of the README runs as written, in order, as a new user would.

Shell blocks run line by line with the project's venv first on PATH (as after
``. .venv/bin/activate``); a command that serves (``make serve``, ``python -m
mockserver serve``) is started, waited for, and kept running for the blocks after
it; Python blocks run as scripts, or under pytest when they hold tests. A command
that is not run here must be listed in ``NOT_RUN`` with the reason, and a command
that must fail says how in ``EXPECTED``: nothing in the README goes unchecked silently.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

NOT_RUN = {
    "make test": "this suite itself; CI runs it (.ci/run)",
    "make check": "make lint, make typecheck and this suite, which cannot run itself",
    "make bench": "minutes of load with wrk and Prism on both cores; make bench-check is its CI form",
    "make bench-check": "CI runs it right after make test (.ci/run)",
}
# A command a new user may well run as written that must stop with a message saying what to do.
EXPECTED = {
    "CONFORMANCE_API_KEY=…": (2, "Was a placeholder such as '…' pasted as is? Pass the key the vendor issued"),
}
SERVES = ("make serve", "python -m mockserver serve")


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int


def blocks(text: str) -> list[Block]:
    found = []
    for m in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.M | re.S):
        found.append(Block(m.group(1), m.group(2), text[: m.start()].count("\n") + 1))
    return found


def commands(block: Block) -> list[str]:
    """A shell block's commands: one per line, continuation lines joined."""
    joined = block.text.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def bare(command: str) -> str:
    """The command without its trailing comment."""
    return command.split("  #", 1)[0].strip()


class Server:
    """A serving command from the README, in its own process group, until the next one starts."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.command = command
        words = shlex.split(bare(command))
        self.port = int(words[words.index("--port") + 1]) if "--port" in words else 8000
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                ["bash", "-c", bare(command)], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 180.0) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"`{self.command}` exited with {self.process.returncode}: {self.log.read_text()[-2000:]}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/_mock/health", timeout=1.0).status_code == 200:
                    return None
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        return f"`{self.command}` did not answer on port {self.port} within {timeout:.0f} s"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def test_the_readme_opens_with_the_two_commands() -> None:
    first = blocks(README.read_text(encoding="utf-8"))[0]
    assert first.language == "sh" and [bare(c) for c in commands(first)] == ["make serve", "make test"]


def test_every_picture_it_shows_is_committed() -> None:
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README.read_text(encoding="utf-8"))
    assert pictures and all((ROOT / p).is_file() and (ROOT / p).read_bytes()[:4] == b"\x89PNG" for p in pictures), pictures


def test_every_command_and_code_block_runs_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CONFORMANCE_API_KEY", None)
    work = tmp_path / "work"  # where a user would run the examples: files they write land here
    work.mkdir()
    problems: list[str] = []
    ran: list[str] = []
    skipped: dict[str, str] = {}
    server: Server | None = None
    try:
        for block in blocks(README.read_text(encoding="utf-8")):
            where = f"README.md:{block.line}"
            if block.language == "python":
                script = work / f"block_{block.line}.py"
                script.write_text(block.text, encoding="utf-8")
                argv = (
                    [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
                    if "def test_" in block.text
                    else [sys.executable, str(script)]
                )
                done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False)
                ran.append(f"{where} python")
                if done.returncode != 0:
                    problems.append(f"{where}: the Python block failed ({done.returncode}):\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
                continue
            if block.language != "sh":
                problems.append(f"{where}: a ```{block.language} block; write commands as ```sh and code as ```python")
                continue
            for command in commands(block):
                key = bare(command)
                if key in NOT_RUN:
                    skipped[key] = NOT_RUN[key]
                    continue
                cwd = ROOT if key.startswith(("make ", ". .venv")) else work
                if key.startswith(SERVES):
                    if server is not None:
                        server.stop()
                    server = Server(command, cwd, env, tmp_path / f"server_{block.line}.log")
                    ran.append(f"{where} {key}")
                    if (trouble := server.wait_ready()) is not None:
                        problems.append(f"{where}: {trouble}")
                    continue
                if key.startswith("make ") and server is not None:
                    server.stop()  # make targets serve on their own ports
                    server = None
                status, needle = next((v for prefix, v in EXPECTED.items() if key.startswith(prefix)), (0, ""))
                done = subprocess.run(["bash", "-c", key], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)
                ran.append(f"{where} {key}")
                output = done.stdout + done.stderr
                if done.returncode != status or needle not in output:
                    problems.append(f"{where}: `{key}` exited {done.returncode} (expected {status}):\n{output[-2000:]}")
                elif "Traceback" in output:
                    problems.append(f"{where}: `{key}` printed a traceback:\n{output[-2000:]}")
    finally:
        if server is not None:
            server.stop()
    assert not problems, "\n\n".join(problems)
    assert skipped == NOT_RUN, f"NOT_RUN lists commands the README no longer has: {set(NOT_RUN) - set(skipped)}"
    print(f"[readme] ran {len(ran)} commands and blocks; not run: {skipped}")
    assert (work / "lighthouse.mp4").read_bytes()[4:8] == b"ftyp"  # the openai example's download
    assert (work / "report.html").exists() and (work / "report.xml").exists()
