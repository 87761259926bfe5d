"""The MP4 writer, judged by a real decoder (FFmpeg, through PyAV)."""

from __future__ import annotations

import base64
import io

import av
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.media import DEFAULT_COLOR, MediaError, _Bits, _nal, probe_mp4, render_mp4, render_mp4_b64


def decode(data: bytes) -> tuple[av.container.InputContainer, list[av.VideoFrame]]:
    container = av.open(io.BytesIO(data))
    stream = container.streams.video[0]
    stream.codec_context.options = {"err_detect": "explode"}
    return container, list(container.decode(stream))


def plane_values(frame: av.VideoFrame) -> list[set[int]]:
    """The distinct sample values of each plane, ignoring the decoder's row padding."""
    seen: list[set[int]] = []
    for plane in frame.planes:
        data, stride = bytes(plane), plane.line_size
        values: set[int] = set()
        for row in range(plane.height):
            values.update(data[row * stride : row * stride + plane.width])
        seen.append(values)
    return seen


@pytest.mark.parametrize(
    ("width", "height", "seconds"),
    [(1280, 720, 8.0), (720, 1280, 4.0), (1920, 1080, 5.0), (854, 480, 6.0), (64, 64, 1.0), (2, 2, 0.1)],
)
def test_a_real_decoder_reads_every_frame_at_the_asked_size(width: int, height: int, seconds: float) -> None:
    data = render_mp4(width, height, seconds)
    container, frames = decode(data)

    assert container.streams.video[0].codec_context.name == "h264"
    assert len(frames) == max(1, round(seconds * 24))
    assert {(f.width, f.height) for f in frames} == {(width, height)}
    assert container.duration is not None and container.duration / 1e6 == pytest.approx(len(frames) / 24, abs=1e-3)
    # A flat picture in exactly the colour that was coded, in the first frame and the last.
    for frame in (frames[0], frames[-1]):
        assert plane_values(frame) == [{c} for c in DEFAULT_COLOR]


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 960).map(lambda n: 2 * n),
    height=st.integers(1, 960).map(lambda n: 2 * n),
    seconds=st.floats(0.05, 3.0),
    fps=st.sampled_from([1, 12, 24, 30, 60]),
)
def test_any_even_size_decodes_and_probes_consistently(width: int, height: int, seconds: float, fps: int) -> None:
    data = render_mp4(width, height, seconds, fps)
    info = probe_mp4(data)
    _, frames = decode(data)

    assert (info.width, info.height, info.codec) == (width, height, "avc1")
    assert info.frame_count == len(frames) == max(1, round(seconds * fps))
    assert info.duration_s == pytest.approx(len(frames) / fps)
    assert (frames[-1].width, frames[-1].height) == (width, height)


def test_the_file_is_small_and_the_moov_comes_first() -> None:
    data = render_mp4(1920, 1080, 8.0)
    assert len(data) < 16_000
    assert data.index(b"moov") < data.index(b"mdat")


def test_renders_are_cached_and_base64_matches() -> None:
    assert render_mp4(640, 360, 2.0) is render_mp4(640, 360, 2.0)
    assert base64.b64decode(render_mp4_b64(640, 360, 2.0)) == render_mp4(640, 360, 2.0)


@pytest.mark.parametrize(("width", "height", "fps"), [(641, 360, 24), (0, 360, 24), (8192, 360, 24), (640, 360, 0)])
def test_refuses_sizes_it_cannot_write(width: int, height: int, fps: int) -> None:
    with pytest.raises(MediaError):
        render_mp4(width, height, 1.0, fps)


@pytest.mark.parametrize(
    "data",
    [b"", b"not a video at all", render_mp4(64, 64, 1.0)[:60], b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"],
    ids=["empty", "text", "truncated", "ftyp-only"],
)
def test_probe_rejects_what_is_not_a_whole_mp4(data: bytes) -> None:
    with pytest.raises(MediaError):
        probe_mp4(data)


def test_exp_golomb_codes_match_the_standard() -> None:
    bits = _Bits()
    for value in (0, 1, 2, 3, 7):
        bits.ue(value)
    for value in (1, -1, 2):
        bits.se(value)
    expected = "1" + "010" + "011" + "00100" + "0001000" + "010" + "011" + "00100"
    assert "".join(bits._parts) == expected


def test_nal_payload_never_contains_a_start_code() -> None:
    escaped = _nal(3, 5, bytes([0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4]))
    assert escaped[1:] == bytes([0, 0, 3, 0, 0, 3, 1, 0, 0, 3, 2, 0, 0, 3, 3, 0, 0, 4])
