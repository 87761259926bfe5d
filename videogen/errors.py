"""The one exception root shared by the mock server and the conformance kit.

    VideogenError
    ├── SpecError        a dialect document is malformed or breaks the x-videogen format
    ├── TemplateError    a response template cannot be compiled or rendered
    └── ConfigError      a command-line or programmatic option is invalid

Errors are raised at load time (start-up), never on the request path: once a
dialect has loaded, its templates and pointers are known to be well formed.
"""

from __future__ import annotations

__all__ = ["ConfigError", "SpecError", "TemplateError", "VideogenError"]


class VideogenError(Exception):
    """Root of every error this project raises on purpose."""


class SpecError(VideogenError):
    """A dialect document is unusable; the message names the file and the JSON pointer."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = source
        self.where = where
        self.problem = problem
        super().__init__(f"{source}: at {where or '/'}: {problem}")


class TemplateError(VideogenError):
    """A template references something that does not exist, or is malformed."""


class ConfigError(VideogenError):
    """An option has a value we cannot use; the message shows the expected form."""
