"""Real client SDKs, unchanged, against the mock on a real socket (real uvicorn).

google-genai 2.x and LiteLLM run in this process; google-genai 3.x cannot share
a virtualenv with 2.x, so it runs from ``.venv-genai3`` (built by ``make test``)
as a subprocess.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from mockserver.clock import VirtualClock
from mockserver.media import probe_mp4
from mockserver.testing import LiveMockServer

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-map download from the internet

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GENAI3 = ROOT / ".venv-genai3" / "bin" / "python"
MAX_POLLS = 50


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """A live mock on a fake clock: each test moves time itself, so nothing sleeps."""
    with LiveMockServer(seed=3) as live:
        yield live


def frames_of(data: bytes) -> tuple[int, int, int]:
    with av.open(io.BytesIO(data)) as container:
        frames = list(container.decode(video=0))
    return frames[0].width, frames[0].height, len(frames)


# -- google-genai 2.x, Gemini Developer API mode ------------------------------------------


def genai_client(server: LiveMockServer, key: str = "sdk-key") -> object:
    from google import genai
    from google.genai import types

    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=server.url("gemini")))


def source(prompt: str) -> object:
    from google.genai import types

    return types.GenerateVideosSource(prompt=prompt)


def test_google_genai_2_generates_polls_and_downloads(server: LiveMockServer) -> None:
    from google.genai import Client, types

    client = genai_client(server)
    assert isinstance(client, Client)
    config = types.GenerateVideosConfig(
        number_of_videos=2, duration_seconds=6, aspect_ratio="9:16", resolution="720p", negative_prompt="blur"
    )
    op = client.models.generate_videos(
        model="veo-3.0-generate-001", source=types.GenerateVideosSource(prompt="a lighthouse at dusk"), config=config
    )
    assert op.name and op.name.startswith("models/veo-3.0-generate-001/operations/")
    assert not op.done

    for _ in range(MAX_POLLS):
        server.advance(1.0)
        op = client.operations.get(op)
        if op.done:
            break
    assert op.done and op.error is None
    assert op.response is not None and op.response.generated_videos
    videos = op.response.generated_videos
    assert len(videos) == 2

    for generated in videos:
        assert generated.video is not None and generated.video.uri
        data = client.files.download(file=generated.video)
        assert generated.video.video_bytes == data
        assert frames_of(data) == (720, 1280, 6 * 24)


def test_google_genai_2_sees_a_failure_as_an_operation_error(server: LiveMockServer) -> None:
    client = genai_client(server)
    op = client.models.generate_videos(model="veo-3.0-generate-001", source=source("a storm [mock:fail]"))  # type: ignore[attr-defined]
    server.advance(60)
    op = client.operations.get(op)  # type: ignore[attr-defined]
    assert op.done and op.response is None
    assert op.error["code"] == 13 and op.error["message"]


def test_google_genai_2_reads_a_safety_filter(server: LiveMockServer) -> None:
    client = genai_client(server)
    op = client.models.generate_videos(model="veo-3.0-generate-001", source=source("a crowd [mock:filtered]"))  # type: ignore[attr-defined]
    server.advance(60)
    op = client.operations.get(op)  # type: ignore[attr-defined]
    assert op.done and op.error is None
    assert op.response.rai_media_filtered_count == 1
    assert op.response.rai_media_filtered_reasons
    assert not op.response.generated_videos


def test_google_genai_2_raises_the_vendor_error_for_a_bad_request(server: LiveMockServer) -> None:
    from google.genai import errors, types

    client = genai_client(server)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_videos(  # type: ignore[attr-defined]
            model="veo-3.0-generate-001", source=source("x"), config=types.GenerateVideosConfig(aspect_ratio="4:3")
        )
    assert caught.value.code == 400
    assert caught.value.status == "INVALID_ARGUMENT"
    assert "aspectRatio" in str(caught.value.message)


def test_google_genai_2_cannot_see_another_keys_operation(server: LiveMockServer) -> None:
    from google.genai import errors

    alice, bob = genai_client(server, "alice"), genai_client(server, "bob")
    op = alice.models.generate_videos(model="veo-3.0-generate-001", source=source("private"))  # type: ignore[attr-defined]
    with pytest.raises(errors.ClientError) as caught:
        bob.operations.get(op)  # type: ignore[attr-defined]
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


# -- LiteLLM, gemini/ provider ---------------------------------------------------------------


def test_litellm_generates_polls_and_fetches_content(server: LiveMockServer) -> None:
    import litellm

    base, key = server.url("gemini"), "litellm-key"
    video = litellm.video_generation(
        model="gemini/veo-3.0-generate-001", prompt="a koi pond", seconds="4", size="1280x720", api_base=base, api_key=key
    )
    assert video.id
    status = video.status
    for _ in range(MAX_POLLS):
        server.advance(1.0)
        status = litellm.video_status(video_id=video.id, api_base=base, api_key=key).status
        if status == "completed":
            break
    assert status == "completed"
    data = litellm.video_content(video_id=video.id, api_base=base, api_key=key)
    assert frames_of(data) == (1280, 720, 4 * 24)


# -- google-genai 3.x, Vertex express mode (its own virtualenv) --------------------------------

GENAI3_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from google import genai
    from google.genai import types

    client = genai.Client(vertexai=True, api_key="vertex-key", http_options=types.HttpOptions(base_url=sys.argv[1]))
    config = types.GenerateVideosConfig(number_of_videos=1, duration_seconds=4, aspect_ratio="16:9", resolution="1080p")
    op = client.models.generate_videos(model="veo-3.0-generate-001", source=types.GenerateVideosSource(prompt="a red kite"), config=config)
    deadline = time.monotonic() + 60
    while not op.done and time.monotonic() < deadline:
        time.sleep(0.05)
        op = client.operations.get(op)
    assert op.done, "the operation did not finish"
    assert op.error is None, op.error
    video = op.response.generated_videos[0].video
    assert video.mime_type == "video/mp4", video.mime_type
    sys.stdout.buffer.write(video.video_bytes)
    """
)


def test_google_genai_3_vertex_express_generates_and_polls() -> None:
    if not GENAI3.exists():
        pytest.fail(f"{GENAI3} is missing: `make test` builds it (google-genai 3.x cannot share a venv with 2.x)")
    # Real time, fifty times faster: the SDK polls on its own here.
    with LiveMockServer(clock=VirtualClock(), time_scale=0.02, seed=5) as live:
        done = subprocess.run([str(GENAI3), "-c", GENAI3_SCRIPT, live.url("vertex")], capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    info = probe_mp4(done.stdout)
    assert (info.width, info.height, info.duration_s) == (1920, 1080, 4.0)
    assert frames_of(done.stdout) == (1920, 1080, 96)


def test_the_genai3_interpreter_really_is_3x() -> None:
    if not GENAI3.exists():
        pytest.fail(f"{GENAI3} is missing: `make test` builds it")
    out = subprocess.run([str(GENAI3), "-c", "import google.genai as g; print(g.__version__)"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("3."), out.stdout
    assert sys.executable != str(GENAI3)
