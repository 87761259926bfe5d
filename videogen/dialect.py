"""The dialect model: one vendor's OpenAPI document plus its ``x-videogen`` extensions.

Both the mock server and the conformance kit load dialects through
:func:`load_dialect`, so they agree on every route, identity, credential, state
and error shape. Everything is checked and compiled at load time
(:mod:`videogen.building`, :mod:`videogen.checking`); a document that loads is
one that serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from videogen.context import Fields
from videogen.credentials import Slot
from videogen.errors import SpecError, TemplateError
from videogen.inputs import InputReader, Source
from videogen.paths import PathTemplate, Router
from videogen.pointer import Pointer
from videogen.template import Template, compile_template

# libyaml's loader when PyYAML was built with it (several times faster at start-up).
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "YAML_LOADER",
    "Dialect",
    "ErrorKind",
    "Event",
    "FileRule",
    "IdentityTemplate",
    "Lifecycle",
    "ListFilter",
    "Operation",
    "Page",
    "ReadModel",
    "ResponseSpec",
    "Role",
    "Source",
    "StateRule",
    "WebhookConfig",
    "bundled_specs_dir",
    "dialect_paths",
    "load_dialect",
    "load_dialects",
]

Role = Literal["create", "poll", "download", "list", "delete", "cancel", "static"]
ROLES: tuple[Role, ...] = ("create", "poll", "download", "list", "delete", "cancel", "static")
METHODS = ("get", "post", "put", "patch", "delete")


def bundled_specs_dir() -> Path:
    """The ``specs/`` folder shipped with this checkout or wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_specs", here.parent / "specs"):
        if candidate.is_dir():
            return candidate
    raise SpecError(str(here), "", "no bundled specs/ folder found beside the package")


_FIELD_PATTERNS = {"token": "[A-Za-z0-9]+", "index": "[0-9]+", "created_s": "[0-9]+"}


class IdentityTemplate:
    """A template such as ``models/{model}/operations/{id}`` that renders and parses."""

    __slots__ = ("fields", "pattern", "template", "text")

    def __init__(self, text: str, source: str, where: str) -> None:
        self.text = text
        try:
            self.template = compile_template(text, where)
        except TemplateError as exc:
            raise SpecError(source, where, str(exc)) from None
        for path in self.template.paths:
            if len(path) > 1:
                raise SpecError(source, where, f"an identity reads plain names, not {'.'.join(path)!r}")
        pattern, fields, pos = "", [], 0
        for m in re.finditer(r"\{([A-Za-z_]\w*)\}", text):
            pattern += re.escape(text[pos : m.start()])
            name = m.group(1)
            if name in fields:
                pattern += f"(?P={name})"
            else:
                fields.append(name)
                pattern += f"(?P<{name}>{_FIELD_PATTERNS.get(name, '[^/]+?')})"
            pos = m.end()
        pattern += re.escape(text[pos:])
        self.pattern = re.compile(pattern)
        self.fields = tuple(fields)

    def render(self, ctx: dict[str, Any]) -> str:
        return str(self.template.render(ctx))

    def parse(self, value: str) -> dict[str, str] | None:
        m = self.pattern.fullmatch(value)
        return m.groupdict() if m else None


@dataclass(frozen=True, slots=True)
class Lifecycle:
    queued_s: float
    running_s: float
    models: dict[str, dict[str, float]]
    result_ttl_s: float | None = None  # results expire this long after the operation finished
    expired: str = "not_found"  # the error kind a download of an expired result answers

    def durations(self, model: str) -> tuple[float, float]:
        override = self.models.get(model, {})
        return override.get("queued_s", self.queued_s), override.get("running_s", self.running_s)


@dataclass(frozen=True, slots=True)
class ErrorKind:
    name: str
    code: int
    reason: str
    extra: dict[str, str] = field(default_factory=dict)  # more per-kind strings, e.g. an OpenAI-style 'type'
    choice: bool = False  # the mock's choice: the vendor published no status for this case


@dataclass(frozen=True, slots=True)
class StateRule:
    """``when`` maps JSON pointers to a literal or to present/absent/positive/nonempty."""

    state: str
    when: tuple[tuple[Pointer, Any], ...]
    where: str = ""  # its JSON pointer in the document, for load-time errors


@dataclass(frozen=True, slots=True)
class Event:
    """An event the dialect sends when an operation enters one of the ``on`` states."""

    key: str  # "webhooks/<name>/post" or "<operationId>/callbacks/<name>"
    name: str  # the event's own name (``video.completed``), for event filters
    on: tuple[str, ...]
    body: Template
    url: Source | None  # a callback's URL, from the create request; None: an out-of-band webhook
    where: str
    schema: dict[str, Any] | None = None  # the JSON schema the document gives the event's body


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    signing: Literal["none", "standard-webhooks"] = "none"
    secret: str | None = None  # the dialect's default secret (--webhook-secret overrides it)
    attempts: int = 5
    backoff_s: float = 1.0  # the first retry waits this long, then twice as long each time
    max_backoff_s: float = 60.0
    timeout_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Page:
    """How a list operation pages: by cursor (``after``), by ``offset``, or by ``page`` number."""

    style: Literal["cursor", "offset", "page"]
    limit: Source
    after: Source | None = None
    offset: Source | None = None
    page: Source | None = None
    order: Source | None = None
    default_limit: int = 20
    max_limit: int = 100
    default_order: Literal["asc", "desc"] = "desc"


@dataclass(frozen=True, slots=True)
class ListFilter:
    """A list narrowed by a request value: operations in some states, of a model, or with some ids."""

    by: Literal["state", "model", "id"]
    source: Source
    states: dict[str, tuple[str, ...]] = field(default_factory=dict)  # a vendor's state name -> internal states


@dataclass(frozen=True, slots=True)
class FileRule:
    """A multipart file part: the media types it may have (by its bytes) and its largest size."""

    media_types: tuple[str, ...]
    max_bytes: int | None


@dataclass(frozen=True, slots=True)
class ReadModel:
    """How a client reads this dialect's answers: the conformance kit's half."""

    handle: Pointer
    poll_method: str
    poll_path: str
    poll_query: dict[str, str]
    poll_body: Any
    echo: Pointer | None
    states: tuple[StateRule, ...]
    results: Pointer | None  # None: the operation itself is the one result (read.result.route)
    result_url: Pointer | None
    result_base64: Pointer | None
    error: Pointer
    example: Any
    example_operation: str | None = None  # the operationId whose request example ``example`` is
    result_route: str | None = None  # results fetched by the handle: "/v1/videos/{handle}/content"
    result_query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResponseSpec:
    """One documented response: content types and the JSON schema of each."""

    status: str
    content: dict[str, Any]
    headers: dict[str, Any]
    choice: bool = False  # a status the mock chose; the vendor published none


@dataclass(frozen=True, slots=True)
class Operation:
    """One OpenAPI operation, with its ``x-videogen`` role when it has one."""

    operation_id: str
    method: str
    path: str
    route: PathTemplate
    role: Role | None
    parameters: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None  # the JSON body's schema (or the multipart form's, when that is the only one)
    body_required: bool
    security: tuple[str, ...]
    credentials: tuple[Slot, ...]  # where the key travels; empty: public
    headers: tuple[tuple[str, str], ...]  # required header parameters and the value clients send (X-Api-Version: 2024-11-06)
    responses: dict[str, ResponseSpec]
    where: str  # its JSON pointer in the document
    choice: bool = False  # an operation the mock chose: the vendor published none (never judged as contract)
    # role-specific parts, empty where they do not apply
    inputs: InputReader | None = None
    vars: dict[str, Source] = field(default_factory=dict)
    id_source: Source | None = None
    file_source: Source | None = None
    state_responses: dict[str, Template] = field(default_factory=dict)
    # other request targets ("path?query") that clients are known to send for this operation
    aliases: tuple[re.Pattern[str], ...] = ()
    # request bodies by media type ("application/json", "multipart/form-data") and multipart file parts
    body_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, FileRule] = field(default_factory=dict)
    # create: an existing operation it refers to (remix), what it takes from it, events asked for
    source: Source | None = None
    inherit: tuple[str, ...] = ()
    events_filter: Source | None = None
    callbacks: tuple[Event, ...] = ()
    # download: by the operation's id (id_source) rather than a file id, and its variants
    variant_source: Source | None = None
    variants: dict[str, str] = field(default_factory=dict)  # variant -> media type
    # list, delete, cancel, static
    page: Page | None = None
    item_operation: str | None = None  # the poll whose templates render each listed item
    filters: tuple[ListFilter, ...] = ()
    items: Pointer | None = None  # where a list answer holds its items (for clients)
    item_id: Pointer | None = None  # an item's handle within it
    response: Template | None = None
    status: int = 200
    effects: dict[str, str] = field(default_factory=dict)  # a state (or pending|finished) -> cancel|delete|keep|error:KIND
    unknown: Template | None = None  # a poll's answer for an id that names nothing (None: the not_found error)
    unknown_status: int = 404

    def effect(self, state: str) -> str:
        """What a delete or cancel does to an operation in ``state``: its own entry, else its group's."""
        group = "pending" if state in ("queued", "running") else "finished"
        return self.effects.get(state) or self.effects[group]

    def response_for(self, status: int) -> ResponseSpec | None:
        return self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX") or self.responses.get("default")

    def parameter(self, location: str, name: str) -> dict[str, Any] | None:
        for param in self.parameters:
            if param["in"] == location and (param["name"] == name or (location == "header" and param["name"].lower() == name)):
                return param
        return None


@dataclass(frozen=True, slots=True)
class Dialect:
    """A loaded, checked and compiled dialect."""

    name: str
    path: Path
    document: dict[str, Any]
    resolved: dict[str, Any]
    title: str
    version: int
    id_template: IdentityTemplate
    name_template: IdentityTemplate
    identity_defaults: dict[str, str]
    file_template: IdentityTemplate
    result_url: Template | None  # None: results are inline or references (gs://), not served here
    lifecycle: Lifecycle
    defaults: dict[str, Any]
    outcomes: dict[str, Any]
    failure: dict[str, Any]  # what a template reads as error.* (code, reason, message)
    filter: dict[str, Any]  # what a template reads as filter.*, but for count (reasons, reason, code, message)
    error_body: Template
    error_details: Template | None
    error_kinds: dict[str, ErrorKind]
    security_schemes: dict[str, dict[str, Any]]
    operations: tuple[Operation, ...]
    read: ReadModel
    router: Router[Operation]
    context: Fields  # what a create, poll or webhook template may read
    secret_names: frozenset[str]  # lower-case header and query names that carry a key
    states: tuple[str, ...]  # the internal states its polls can show
    published: dict[str, Any]  # the document without the mock's choices (what a vendor is judged on)
    sizes: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)  # resolution -> ratio -> size
    webhooks: tuple[Event, ...] = ()  # sent to endpoints configured out of band
    webhook_config: WebhookConfig = field(default_factory=WebhookConfig)
    # Every event the dialect can send: its webhooks and its creates' callbacks (built once: every create asks).
    events: tuple[Event, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        events = self.webhooks + tuple(e for op in self.operations if op.role == "create" for e in op.callbacks)
        object.__setattr__(self, "events", events)

    def by_role(self, role: Role) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.role == role)

    def error_kind(self, name: str) -> ErrorKind:
        return self.error_kinds[name]

    def operation(self, operation_id: str) -> Operation:
        return next(op for op in self.operations if op.operation_id == operation_id)

    @property
    def create(self) -> Operation:
        """The create the document's example is for: the one the kit and the test clients use."""
        creates = self.by_role("create")
        return next((op for op in creates if op.operation_id == self.read.example_operation), creates[0])


def dialect_paths(folder: Path | None = None) -> list[Path]:
    """The dialect documents in ``folder`` (default: the bundled specs): ``*.yaml``, not ``_*``."""
    folder = folder or bundled_specs_dir()
    if not folder.is_dir():
        raise SpecError(str(folder), "", "not a folder of dialect documents")
    return sorted(p for p in folder.glob("*.yaml") if not p.name.startswith("_"))


def load_dialects(folder: Path | None = None) -> list[Dialect]:
    """Every dialect in ``folder`` (default: the bundled specs), sorted by name."""
    folder = folder or bundled_specs_dir()
    paths = dialect_paths(folder)
    if not paths:
        raise SpecError(str(folder), "", "no dialect documents (*.yaml) in this folder")
    return [load_dialect(p) for p in paths]


def load_dialect(path: Path) -> Dialect:
    """Load, check and compile one dialect document; raises :class:`SpecError`."""
    from videogen.building import build

    return build(path)
