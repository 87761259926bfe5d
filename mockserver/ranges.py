"""HTTP ``Range`` (RFC 9110, section 14) for downloads: one byte range, or the whole body."""

from __future__ import annotations

from videogen.errors import VideogenError

__all__ = ["RangeError", "byte_range"]


class RangeError(VideogenError, ValueError):
    """The range cannot be satisfied (answered with 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) to send, or None to send everything.

    A header we do not understand (another unit, several ranges, bad syntax) is
    ignored, as RFC 9110 allows; only a well-formed range outside the body is
    an error.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not spec.isascii():  # "²".isdigit() too, but int() refuses it
        return None
    if not dash or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:  # suffix range: the last N bytes
        n = int(last)
        if n == 0:
            raise RangeError(f"range {header!r} asks for zero bytes")
        return max(0, size - n), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeError(f"range {header!r} starts past the end ({size} bytes)")
    if last and int(last) < start:
        return None
    return start, end
