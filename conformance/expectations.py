"""What a finished operation should deliver, read from the create request through the dialect.

The create operation's ``x-videogen`` inputs say where the count, size and duration
live in a request; what the request leaves out comes from the dialect's documented
defaults. Nothing is expected that neither says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from videogen.dialect import Dialect, Operation
from videogen.pointer import MISSING

__all__ = ["Expectation", "expectation"]

_RESOLUTION = re.compile(r"(\d+)[pP]")
_RATIO = re.compile(r"(\d+):(\d+)")
DURATION_TOLERANCE_S = 0.5


@dataclass(frozen=True, slots=True)
class Expectation:
    count: int | None
    size: tuple[int, int] | None
    duration_s: float | None
    references_only: bool  # results go to the caller's storage (a storage URI input): no bytes to fetch

    def describe(self) -> str:
        parts = []
        if self.size:
            parts.append(f"{self.size[0]}x{self.size[1]}")
        if self.duration_s is not None:
            parts.append(f"{self.duration_s:g} s")
        return ", ".join(parts) or "an MP4"


def _inputs(dialect: Dialect, op: Operation, body: Any, path: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = dict(dialect.defaults)
    for inp in op.inputs:
        src = inp.source
        value: Any = MISSING
        if src.kind == "path":
            value = path.get(src.key, MISSING)
        elif src.kind == "body" and src.pointer is not None:
            value = src.pointer.get(body)
        if value is not MISSING and value is not None:
            values[inp.name] = value
    return values


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _size(values: dict[str, Any]) -> tuple[int, int] | None:
    width, height = _number(values.get("width")), _number(values.get("height"))
    if width and height:
        return int(width), int(height)
    res = _RESOLUTION.fullmatch(str(values.get("resolution", "")))
    ratio = _RATIO.fullmatch(str(values.get("aspect_ratio", "")))
    if not res or not ratio or not int(ratio.group(1)) or not int(ratio.group(2)):
        return None
    short, a, b = int(res.group(1)), int(ratio.group(1)), int(ratio.group(2))
    long = round(short * max(a, b) / min(a, b))  # "720p" names the short side
    return (long, short) if a >= b else (short, long)


def expectation(dialect: Dialect, op: Operation, body: Any, path: Mapping[str, str]) -> Expectation:
    values = _inputs(dialect, op, body, path)
    count = _number(values.get("count"))
    return Expectation(
        count=int(count) if count else None,
        size=_size(values),
        duration_s=_number(values.get("duration_s")),
        references_only=bool(values.get("storage_uri")),
    )
