"""Opening a downloaded video with a real demuxer and decoder (FFmpeg, through PyAV)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av

from videogen.errors import VideogenError

__all__ = ["MediaInfo", "NotPlayable", "poster_png", "probe", "probe_image"]


class NotPlayable(VideogenError, ValueError):
    """The bytes are not an MP4 with a decodable video stream; the message says why."""


@dataclass(frozen=True, slots=True)
class MediaInfo:
    codec: str
    width: int
    height: int
    duration_s: float
    frames: int


def _source(data: bytes | Path) -> io.BytesIO | str:
    return io.BytesIO(data) if isinstance(data, bytes) else str(data)


def probe(data: bytes | Path) -> MediaInfo:
    """Demux every packet with FFmpeg's MP4 demuxer and decode the first frame (bytes, or a file too large to hold)."""
    if not data or (isinstance(data, Path) and data.stat().st_size == 0):
        raise NotPlayable("empty body")
    try:
        with av.open(_source(data), mode="r", format="mp4") as container:
            if not container.streams.video:
                raise NotPlayable("the MP4 has no video stream")
            stream = container.streams.video[0]
            packets, decoded, end = 0, False, 0.0
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                packets += 1
                if packet.pts is not None and packet.duration is not None and packet.time_base is not None:
                    end = max(end, float((packet.pts + packet.duration) * packet.time_base))
                if not decoded:
                    decoded = bool(packet.decode())
            if not packets:
                raise NotPlayable("the video stream has no packets")
            if not decoded:  # a decoder with reordering delay hands frames out only when flushed
                decoded = bool(stream.codec_context.decode(None))
            if not decoded:
                raise NotPlayable("no frame of the video stream decodes")
            duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else end
            if not duration and container.duration:
                duration = container.duration / 1_000_000
            ctx = stream.codec_context
            return MediaInfo(str(ctx.name), int(ctx.width), int(ctx.height), duration, packets)
    except av.error.FFmpegError as exc:
        raise NotPlayable(f"FFmpeg cannot open it as MP4: {exc}") from None


_IMAGE_FORMATS = {"image/webp": "webp_pipe", "image/jpeg": "jpeg_pipe", "image/png": "png_pipe"}


def probe_image(data: bytes, media_type: str) -> tuple[int, int]:
    """Decode an image of ``media_type`` with FFmpeg; (width, height), or NotPlayable saying why."""
    fmt = _IMAGE_FORMATS.get(media_type)
    if fmt is None:
        raise NotPlayable(f"{media_type} is not an image type the kit opens ({', '.join(_IMAGE_FORMATS)})")
    if not data:
        raise NotPlayable("empty body")
    try:
        with av.open(io.BytesIO(data), mode="r", format=fmt) as container:
            frame = next(container.decode(video=0), None)
            if frame is None:
                raise NotPlayable(f"no image decodes from it as {media_type}")
            return int(frame.width), int(frame.height)
    except av.error.FFmpegError as exc:
        raise NotPlayable(f"FFmpeg cannot open it as {media_type}: {exc}") from None


def poster_png(data: bytes | Path, width: int = 320) -> bytes | None:
    """The first frame as a PNG ``width`` pixels wide (for the HTML report), or None if none decodes."""
    try:
        with av.open(_source(data), mode="r", format="mp4") as container:
            frame = next(container.decode(video=0), None)
            if frame is None:
                return None
            height = max(2, round(frame.height * width / frame.width / 2) * 2)
            rgb = frame.reformat(width=width, height=height, format="rgb24")
            encoder = av.CodecContext.create("png", "w")
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "rgb24"
            return b"".join(bytes(p) for p in [*encoder.encode(rgb), *encoder.encode(None)])
    except (av.error.FFmpegError, ValueError, ZeroDivisionError):
        return None
