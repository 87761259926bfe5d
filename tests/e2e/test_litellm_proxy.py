"""LiteLLM's proxy serving the OpenAI ``/v1/videos`` shape in front of the mock's Gemini dialect.

Two things are proven here with unchanged third-party software, over real sockets:

* the official ``openai`` SDK creates, polls and downloads a playable MP4 through
  the proxy, which itself drives the mock's ``gemini`` dialect (``predictLongRunning``,
  an operation poll, then the file download the operation names);
* the conformance kit, pointed at the proxy with the ``openai`` dialect, reports
  exactly the proxy's known deviations from that published contract, and nothing else.

The proxy is ``litellm[proxy]==1.108.7`` in ``.venv-litellm`` (built by ``make test``;
later releases pin companion packages the index does not carry). Its deviations,
read in ``litellm/llms/gemini/videos/transformation.py`` and the proxy's
``video_endpoints``: status ``processing`` (not an OpenAI status) until Gemini's
``done``, then ``completed`` even when the operation carries an ``error``;
``created_at``, ``progress``, ``seconds`` and ``size`` are null; no list (400) and no
delete route (405); thumbnail and spritesheet variants answer the MP4; an id that
does not decode falls back to the ``openai`` provider, which this test points at a
closed local port so nothing leaves the machine (a 500); a wrong type in the body
is a 500; with no database, any key but the master key is a 400.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conformance.config import RunConfig
from conformance.runner import run
from mockserver.clock import VirtualClock
from mockserver.media import probe_mp4
from mockserver.testing import LiveMockServer, free_port

pytestmark = pytest.mark.slow

openai = pytest.importorskip("openai")

ROOT = Path(__file__).resolve().parents[2]
LITELLM = ROOT / ".venv-litellm" / "bin" / "litellm"
MASTER_KEY = "sk-test-1234"
CLOSED = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, so a fallback to OpenAI fails fast, offline

CONFIG = """\
model_list:
  - model_name: sora-2
    litellm_params:
      model: gemini/veo-3.0-generate-001
      api_base: {api_base}
      api_key: any-key
router_settings:
  num_retries: 0
litellm_settings:
  num_retries: 0
general_settings:
  master_key: {master_key}
"""


class Proxy:
    """``litellm --config`` as a child process, ready once ``/health/liveliness`` answers."""

    def __init__(self, api_base: str, workdir: Path) -> None:
        self.port = free_port()
        config = workdir / "litellm.yaml"
        config.write_text(CONFIG.format(api_base=api_base, master_key=MASTER_KEY))
        self.log = workdir / "litellm.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "GEMINI_", "GOOGLE_", "LITELLM_"))}
        env |= {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "OPENAI_BASE_URL": CLOSED, "OPENAI_API_BASE": CLOSED}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=workdir,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"litellm exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health/liveliness", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        pytest.fail(f"litellm did not answer within {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def mock() -> Iterator[LiveMockServer]:
    """Real time, fifty times faster: a Veo job of about 40 s ends in under a second."""
    with LiveMockServer(clock=VirtualClock(), time_scale=0.02, seed=13) as live:
        yield live


@pytest.fixture(scope="module")
def proxy(mock: LiveMockServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    if not LITELLM.exists():
        pytest.fail(f"{LITELLM} is missing: `make test` builds it (pip install 'litellm[proxy]==1.108.7' prisma)")
    proxy = Proxy(mock.url("gemini"), tmp_path_factory.mktemp("litellm"))
    try:
        proxy.wait_ready()
        yield proxy
    finally:
        proxy.stop()


def test_the_openai_sdk_generates_a_video_through_the_proxy(proxy: Proxy) -> None:
    client = openai.OpenAI(api_key=MASTER_KEY, base_url=f"{proxy.url}/v1", max_retries=0)
    video = client.videos.create(model="sora-2", prompt="a lighthouse at dusk", seconds="8", size="1280x720")
    statuses = [video.status]
    deadline = time.monotonic() + 60
    # The SDK's create_and_poll stops at once on the proxy's "processing", so poll as a client must here.
    while video.status not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.2)
        video = client.videos.retrieve(video.id)
        statuses.append(video.status)
    assert statuses[0] == "processing" and statuses[-1] == "completed", statuses
    assert set(statuses) <= {"processing", "completed"}  # the proxy never says queued or in_progress
    data = client.videos.download_content(video.id).read()
    info = probe_mp4(data)
    assert (info.codec, info.width, info.height, info.duration_s) == ("avc1", 1280, 720, 8.0)


def test_the_kit_finds_exactly_the_proxys_known_deviations(proxy: Proxy) -> None:
    report = run(
        RunConfig(
            spec="openai",
            base_url=proxy.url,
            api_key=MASTER_KEY,
            max_creates=10,
            failure_suffix=" [mock:fail]",
            rate_limit=0,
            poll_interval=0.2,
            timeout=60,
        )
    )
    failed = {(case.check, case.target) for case in report.cases if case.status == "failed"}
    assert failed == {
        ("response.schema", "createVideo"),  # status "processing"; created_at, progress, seconds, size null
        ("response.schema", "getVideo"),
        ("response.status", "deleteVideo"),  # no DELETE route: 405
        ("lifecycle.delete", "deleteVideo"),
        ("auth.unknown_id", "deleteVideo"),
        ("auth.unknown_id", "getVideo"),  # an id that does not decode goes to the openai provider: 500
        ("input.valid_accepted", "getVideo"),
        ("input.valid_accepted", "downloadVideoContent"),
        ("input.invalid_rejected", "createVideo"),  # enums and minLength unchecked; wrong types are 500s
        ("input.invalid_rejected", "downloadVideoContent"),
        ("lifecycle.list", "listVideos"),  # no list for Gemini: 400
        ("lifecycle.variants", "downloadVideoContent?thumbnail"),  # the MP4 for every variant
        ("lifecycle.variants", "downloadVideoContent?spritesheet"),
        ("lifecycle.media", "job#2"),  # the failed job says completed, and its content is a 500
        ("auth.invalid_key", "getVideo"),  # no database: any other key is a 400
    }, report.summary()
    assert not report.conforms
    finals = {job.purpose: job.final for job in report.jobs}
    assert finals.get("failure") == "succeeded", report.jobs  # reported completed though the mock failed it
