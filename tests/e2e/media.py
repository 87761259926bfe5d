"""What the SDK tests read from a downloaded result: decoded with PyAV (FFmpeg), every frame."""

from __future__ import annotations

import io

import av


def decoded(data: bytes, fmt: str | None = None, *, fps: float | None = None) -> tuple[int, int, float]:
    """(width, height, duration in seconds; 0 for a still) after decoding every frame of ``data``.

    ``fmt`` names a demuxer for bytes FFmpeg cannot sniff (``webp_pipe``, ``jpeg_pipe``);
    ``fps``, when given, is the frame rate the stream must declare.
    """
    with av.open(io.BytesIO(data), mode="r", format=fmt) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(video=0))
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
        if fps is not None:
            assert stream.average_rate == fps, f"{stream.average_rate} frames a second, expected {fps}"
    return frames[0].width, frames[0].height, duration
