"""The size rule, defined once: what width and height a request asks for.

Explicit ``width`` and ``height`` win; otherwise ``resolution`` names the short
side (``720p``) and ``aspect_ratio`` the shape (``16:9`` -> 1280x720). Sides are
even (H.264 4:2:0 needs it) and at most :data:`MAX_SIDE`. The mock renders this
size and the kit expects it, so they cannot disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from videogen.coercion import is_digits

__all__ = ["DEFAULT_SIZE", "MAX_SIDE", "even", "size_of"]

MAX_SIDE = 4096  # the largest side the MP4 writer renders
DEFAULT_SIZE = (1280, 720)  # what the mock renders when nothing says otherwise


def even(n: int) -> int:
    """``n`` within 2..MAX_SIDE, rounded down to even."""
    n = max(2, min(int(n), MAX_SIDE))
    return n - (n % 2)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


Table = Mapping[str, Mapping[str, tuple[int, int]]]


def size_of(values: Mapping[str, Any], table: Table | None = None) -> tuple[int, int] | None:
    """(width, height) from the inputs, or None when they say neither a size nor resolution and ratio.

    ``table`` is a dialect's own ``sizes``: resolution -> aspect ratio -> size, for vendors whose
    pixels differ from the rule (a 720p 16:9 clip that is 1248x704)."""
    width, height = _number(values.get("width")), _number(values.get("height"))
    if width and height:
        return even(round(width)), even(round(height))
    resolution, ratio = values.get("resolution"), values.get("aspect_ratio")
    if not isinstance(resolution, str) or not isinstance(ratio, str):
        return None
    listed = (table or {}).get(resolution.lower(), {}).get(ratio)
    return (even(listed[0]), even(listed[1])) if listed else _sized(resolution, ratio)


@functools.lru_cache(maxsize=256)  # a handful of resolutions and ratios, asked for on every create
def _sized(resolution: str, ratio: str) -> tuple[int, int] | None:
    digits = resolution.lower().removesuffix("p")
    a, _, b = ratio.partition(":")
    if not (is_digits(digits) and is_digits(a) and is_digits(b)) or not int(a) or not int(b) or not int(digits):
        return None
    short, ratio_w, ratio_h = int(digits), int(a), int(b)
    long = round(short * max(ratio_w, ratio_h) / min(ratio_w, ratio_h))
    return (even(long), even(short)) if ratio_w >= ratio_h else (even(short), even(long))
