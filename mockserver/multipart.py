"""``multipart/form-data`` request bodies, parsed in memory (the body is already size-bounded).

python-multipart does the parsing; this module turns its callbacks into fields and
file parts, and sniffs what a file part really holds, since clients label parts
loosely (the OpenAI SDK sends raw bytes as ``upload``, ``application/octet-stream``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from python_multipart.multipart import MultipartParser, parse_options_header

__all__ = ["FilePart", "MultipartError", "parse_form", "sniff"]

MAX_PARTS = 100


class MultipartError(ValueError):
    """The body is not the multipart form its Content-Type says; the message says why."""


@dataclass(frozen=True, slots=True)
class FilePart:
    filename: str
    content_type: str
    data: bytes

    def describe(self) -> dict[str, object]:
        """What a record keeps of a file: never the bytes."""
        return {"filename": self.filename, "content_type": sniff(self.data) or self.content_type, "bytes": len(self.data)}


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
    (b"ftyp", 4, "video/mp4"),
)


def sniff(data: bytes) -> str | None:
    """The media type the bytes are, by their signature, or None."""
    for magic, at, media in _SIGNATURES:
        if data[at : at + len(magic)] == magic:
            return media
    return None


@dataclass
class _Part:
    headers: dict[str, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


def parse_form(content_type: str, body: bytes) -> dict[str, str | FilePart]:
    """Fields as text and file parts as :class:`FilePart` (the first of a repeated name wins)."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MultipartError("multipart/form-data needs a boundary parameter in its Content-Type")
    parts: list[_Part] = []
    name_buf = bytearray()
    value_buf = bytearray()

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise MultipartError(f"more than {MAX_PARTS} parts")
        parts.append(_Part())

    def on_part_data(data: bytes, start: int, end: int) -> None:
        parts[-1].data.extend(data[start:end])

    def on_header_field(data: bytes, start: int, end: int) -> None:
        name_buf.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value_buf.extend(data[start:end])

    def on_header_end() -> None:
        parts[-1].headers[bytes(name_buf).lower().decode("latin-1")] = bytes(value_buf)
        name_buf.clear()
        value_buf.clear()

    callbacks = {
        "on_part_begin": on_part_begin,
        "on_part_data": on_part_data,
        "on_header_field": on_header_field,
        "on_header_value": on_header_value,
        "on_header_end": on_header_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except MultipartError:
        raise
    except Exception as exc:  # python-multipart raises several types for a malformed body
        raise MultipartError(f"malformed multipart body: {exc}") from None
    form: dict[str, str | FilePart] = {}
    for part in parts:
        _, disposition = parse_options_header(part.headers.get("content-disposition", b""))
        if b"name" not in disposition:
            raise MultipartError('every part needs Content-Disposition: form-data; name="..."')
        name = disposition[b"name"].decode("utf-8", "replace")
        data = bytes(part.data)
        if b"filename" in disposition:
            content_type = part.headers.get("content-type", b"application/octet-stream").decode("latin-1").split(";")[0].strip()
            value: str | FilePart = FilePart(disposition[b"filename"].decode("utf-8", "replace"), content_type.lower(), data)
        else:
            try:
                value = data.decode("utf-8")
            except UnicodeDecodeError:
                raise MultipartError(f"field {name!r} is not UTF-8 text") from None
        form.setdefault(name, value)
    return form
