"""What a finished operation should deliver, read from the create request through the dialect.

The create's declared inputs (:class:`videogen.inputs.InputReader`, the same
reader the mock plans with) say where the count, size and duration live in a
request, and which transforms apply; what the request leaves out comes from the
dialect's documented defaults. Nothing is expected that neither says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from videogen.dialect import Dialect, Operation
from videogen.inputs import RequestView
from videogen.sizing import size_of

__all__ = ["DURATION_TOLERANCE_S", "Expectation", "expectation"]

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


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def expectation(dialect: Dialect, op: Operation, body: Any, path: Mapping[str, str]) -> Expectation:
    values: dict[str, Any] = dict(dialect.defaults)
    if op.inputs is not None:
        values.update(op.inputs.read(RequestView(path=path, body=body)))
    count = _number(values.get("count"))
    return Expectation(
        count=int(count) if count else None,
        size=size_of(values, dialect.sizes),
        duration_s=_number(values.get("duration_s")),
        references_only=bool(values.get("storage_uri")),
    )
