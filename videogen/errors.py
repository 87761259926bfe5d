"""The one exception root of the project: every error raised on purpose is a VideogenError.

    VideogenError
    ├── SpecError          videogen.errors      a dialect document is malformed or its parts do not fit
    ├── TemplateError      videogen.errors      a response template cannot be compiled or rendered
    ├── UnsafeYamlError    videogen.yamlsafe    a YAML document that cannot be read safely (bomb, depth, not UTF-8, not JSON)
    ├── ConfigError        videogen.errors      a command-line or programmatic option is invalid
    │   └── FaultError     mockserver.faults    a fault rule or profile does not parse
    ├── VendorError        mockserver.errors    a request the mock answers with the dialect's own error
    ├── ScenarioError      mockserver.lifecycle an unknown [mock:...] scenario
    ├── RangeError         mockserver.ranges    a Range outside the body (416)
    ├── MediaError         mockserver.media     a size or length the MP4 writer cannot render
    ├── StoreUnavailable   mockserver.store.base  the store is down, frozen or gone: the dialect's 503 with Retry-After
    ├── StoreFull          mockserver.store.base  the memory store holds --max-operations: the dialect's 429
    ├── UnreachableError   conformance.checks.auth  the base URL does not answer: nothing can be judged
    ├── PreflightError     conformance.checks.preflight  a refused key or the wrong mount: exit 2 before anything is spent
    ├── RunStopped         conformance.session  the run's budget ran out or the target went silent: the report says so
    ├── NotPlayable        conformance.media    downloaded bytes are not a playable MP4
    └── NonConformance     conformance.api      assert_conforms: the report holds failures

Documents are checked whole at load time (start-up), never on the request path:
once a dialect has loaded, its templates, pointers and references are known to fit.
``tests/test_exported_members.py`` holds this drawing to the classes that exist.
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
