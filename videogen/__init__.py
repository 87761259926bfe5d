"""The dialect model shared by the mock server and the conformance kit.

    from videogen import load_dialect
    dialect = load_dialect(Path("specs/gemini.yaml"))   # checked whole, or SpecError naming the pointer

Names are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen.lazy import lazy_exports

if TYPE_CHECKING:
    from videogen.dialect import Dialect, Operation, bundled_specs_dir, load_dialect, load_dialects
    from videogen.errors import ConfigError, SpecError, TemplateError, VideogenError

__all__ = [
    "ConfigError",
    "Dialect",
    "Operation",
    "SpecError",
    "TemplateError",
    "VideogenError",
    "bundled_specs_dir",
    "load_dialect",
    "load_dialects",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "videogen.dialect": ("Dialect", "Operation", "bundled_specs_dir", "load_dialect", "load_dialects"),
        "videogen.errors": ("ConfigError", "SpecError", "TemplateError", "VideogenError"),
    },
    globals(),
)
