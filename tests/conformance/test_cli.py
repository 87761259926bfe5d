"""``python -m conformance``: exit 0 conforms, 1 a check failed, 2 usage or configuration error."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conformance.cli import main
from mockserver.clock import VirtualClock
from mockserver.testing import LiveMockServer, free_port

SPECS = Path(__file__).resolve().parents[2] / "specs"
FAST = ["--rate-limit", "0", "--poll-interval", "0.05", "--timeout", "30", "--fuzz-examples", "4"]


@pytest.fixture(scope="module")
def live() -> Iterator[LiveMockServer]:
    with LiveMockServer(clock=VirtualClock(), time_scale=0.02, seed=9) as server:
        yield server


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spec", "acme", "--base-url", "http://127.0.0.1:9/acme", "--api-key", "k"], "is not a bundled dialect; expected one of"),
        (["--spec", "gemini", "--base-url", "127.0.0.1:9", "--api-key", "k"], "--base-url must look like"),
        (["--spec", "gemini", "--base-url", "http://127.0.0.1:9/gemini", "--api-key", "k", "--max-creates", "-1"], "--max-creates"),
        (
            ["--spec", "gemini", "--base-url", "http://127.0.0.1:9/gemini", "--api-key", "k", "--json", "/no/such/dir/r.json"],
            "is not a directory",
        ),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_key_exits_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFORMANCE_API_KEY", raising=False)
    assert main(["run", "--spec", "gemini", "--base-url", "http://127.0.0.1:9/gemini"]) == 2
    assert "--api-key is required" in capsys.readouterr().err


def test_an_unreachable_base_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/gemini"
    assert main(["run", "--spec", "gemini", "--base-url", url, "--api-key", "k", "--quiet"]) == 2
    assert "does not answer" in capsys.readouterr().err


def test_checks_lists_every_check_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert "lifecycle.monotonic" in out and "auth.isolation" in out


@pytest.mark.slow
def test_a_conforming_endpoint_exits_0_and_writes_both_reports(
    live: LiveMockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, report = tmp_path / "r.xml", tmp_path / "r.json"
    args = ["run", "--spec", "tokenops", "--base-url", live.url("tokenops"), "--api-key", "k1", "--other-api-key", "k2", *FAST]
    assert main([*args, "--junit", str(junit), "--json", str(report)]) == 0
    out = capsys.readouterr().out
    assert "conforms" in out and "creates spent: 2 of 2" in out
    data = json.loads(report.read_text())
    assert data["conforms"] is True and data["creates"]["spent"] == 2
    assert len(ET.parse(junit).getroot().findall(".//testcase")) == len(data["cases"])


def _breaking(tmp_path: Path) -> Path:
    """tokenops.yaml, but its poll also promises a field the target never sends: a real contract break."""
    document = yaml.safe_load((SPECS / "tokenops.yaml").read_text())
    for item in document["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("x-videogen", {}).get("role") == "poll":
                schema = op["responses"]["200"]["content"]["application/json"]["schema"]
                if "$ref" in schema:
                    schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                schema.setdefault("required", []).append("etag")
                schema.setdefault("properties", {})["etag"] = {"type": "string"}
    path = tmp_path / "tokenops-etag.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path


@pytest.mark.slow
def test_a_broken_contract_exits_1_with_failures_by_check(live: LiveMockServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(_breaking(tmp_path))
    args = ["run", "--spec", spec, "--base-url", live.url("tokenops"), "--api-key", "sk-live-7f3a", "--max-creates", "1", *FAST]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "does not conform" in out and "response.schema" in out and "etag" in out and "curl -sS" in out
    assert "sk-live-7f3a" not in out and "$API_KEY" in out


@pytest.mark.slow
@pytest.mark.parametrize(("spec", "mount"), [("xiexus", "gemini"), ("openai", ""), ("gemini", "openai")])
def test_the_wrong_mount_exits_2_before_spending(spec: str, mount: str, live: LiveMockServer, capsys: pytest.CaptureFixture[str]) -> None:
    before = len(live.records())
    base = live.url(mount) if mount else live.base_url
    assert main(["run", "--spec", spec, "--base-url", base, "--api-key", "k1", "--max-creates", "2", *FAST]) == 2
    err = capsys.readouterr().err
    assert "is --base-url the dialect's mount" in err and f"/{spec})" in err, err
    assert "does not conform" not in err and "Traceback" not in err
    assert len(live.records()) == before  # nothing was created


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["gemini", "openai", "vertex"])
def test_a_refused_key_exits_2_before_spending(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    with LiveMockServer(clock=VirtualClock(), time_scale=0.02, seed=9, api_keys=frozenset({"the-right-key"})) as server:
        assert main(["run", "--spec", spec, "--base-url", server.url(spec), "--api-key", "a-wrong-key", *FAST]) == 2
        assert server.records() == []
    err = capsys.readouterr().err
    assert "every authenticated request was refused" in err and "Is the key right" in err, err


@pytest.mark.parametrize("key", ["sk-\u2026", "AIza…", "key with space", "caf\u00e9"])
def test_a_key_that_cannot_travel_exits_2_with_a_message(key: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--spec", "gemini", "--base-url", "http://127.0.0.1:9/gemini", "--api-key", key]) == 2
    err = capsys.readouterr().err
    assert "printable ASCII" in err and "Pass the key the vendor issued" in err and "Traceback" not in err


@pytest.mark.slow
def test_python_dash_m_conformance_runs(live: LiveMockServer) -> None:
    args = ["run", "--spec", "veo-relay", "--base-url", live.url("veo-relay"), "--api-key", "k1", "--quiet", *FAST]
    done = subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "conforms" in done.stdout


@pytest.mark.slow
def test_piped_output_shows_progress_and_the_run_leaves_no_hypothesis_folder(live: LiveMockServer, tmp_path: Path) -> None:
    """In CI, stdout is no terminal: one plain line per phase and per job state, as they happen."""
    args = ["run", "--spec", "openai", "--base-url", live.url("openai"), "--api-key", "k1", "--max-creates", "2", *FAST]
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert any(re.fullmatch(r"\[ *\d+\.\d s\] phase: preflight: an unknown id", line) for line in lines), lines[:5]
    assert any(re.fullmatch(r"\[ *\d+\.\d s\] job#1: succeeded( after \d+ s)?", line) for line in lines), lines
    assert "\x1b[" not in done.stdout, "no terminal control codes in a log"
    assert not (tmp_path / ".hypothesis").exists()
    assert (tmp_path / "cache" / "videogen-conformance" / "hypothesis").is_dir()


def test_without_the_extra_the_kit_says_which_extra_to_install() -> None:
    import subprocess
    import sys

    argv = ["run", "--spec", "gemini", "--base-url", "http://127.0.0.1:9", "--api-key", "k"]
    code = f"import sys; sys.modules['schemathesis'] = None; from conformance.cli import main; sys.exit(main({argv!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "pip install 'videogen-mock[conformance]'" in done.stderr and "Traceback" not in done.stderr
