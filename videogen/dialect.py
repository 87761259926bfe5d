"""The dialect model: one vendor's OpenAPI document plus its ``x-videogen`` extensions.

Both the mock server and the conformance kit load dialects through
:func:`load_dialect`, so they agree on every route, identity, state and error
shape. Everything here is checked and compiled at load time; a document that
loads is safe to serve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from videogen.errors import SpecError, TemplateError
from videogen.extension import check_extensions
from videogen.pointer import Pointer
from videogen.refs import resolve_refs
from videogen.template import Template, compile_template

# libyaml's loader when PyYAML was built with it (several times faster at start-up).
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = [
    "Dialect",
    "ErrorKind",
    "IdentityTemplate",
    "Lifecycle",
    "Operation",
    "ReadModel",
    "Source",
    "StateRule",
    "bundled_specs_dir",
    "load_dialect",
    "load_dialects",
]

Role = Literal["create", "poll", "download"]
STATES = ("queued", "running", "succeeded", "failed", "filtered")
METHODS = ("get", "post", "put", "patch", "delete")


def bundled_specs_dir() -> Path:
    """The ``specs/`` folder shipped with this checkout or wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_specs", here.parent / "specs"):
        if candidate.is_dir():
            return candidate
    raise SpecError(str(here), "", "no bundled specs/ folder found beside the package")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a value is read from in a request: ``path:NAME``, ``query:NAME``,
    ``header:NAME`` or ``body:/json/pointer``."""

    kind: Literal["path", "query", "header", "body"]
    key: str
    pointer: Pointer | None = None

    @classmethod
    def parse(cls, text: str, source: str, where: str) -> Source:
        kind, sep, key = text.partition(":")
        if not sep or kind not in ("path", "query", "header", "body") or not key:
            raise SpecError(source, where, f"expected 'path:NAME', 'query:NAME', 'header:NAME' or 'body:/pointer', got {text!r}")
        if kind == "body":
            try:
                return cls("body", key, Pointer.parse(key))
            except ValueError as exc:
                raise SpecError(source, where, str(exc)) from None
        return cls(kind, key.lower() if kind == "header" else key)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Input:
    name: str
    source: Source


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

    def durations(self, model: str) -> tuple[float, float]:
        override = self.models.get(model, {})
        return override.get("queued_s", self.queued_s), override.get("running_s", self.running_s)


@dataclass(frozen=True, slots=True)
class ErrorKind:
    name: str
    code: int
    reason: str
    extra: dict[str, str] = field(default_factory=dict)  # more per-kind strings, e.g. an OpenAI-style 'type'


@dataclass(frozen=True, slots=True)
class StateRule:
    """``when`` maps JSON pointers to a literal or to present/absent/positive/nonempty."""

    state: str
    when: tuple[tuple[Pointer, Any], ...]


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
    results: Pointer
    result_url: Pointer | None
    result_base64: Pointer | None
    error: Pointer
    example: Any


@dataclass(frozen=True, slots=True)
class ResponseSpec:
    """One documented response: content types and the JSON schema of each."""

    status: str
    content: dict[str, Any]
    headers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Operation:
    """One OpenAPI operation, with its ``x-videogen`` role when it has one."""

    operation_id: str
    method: str
    path: str
    role: Role | None
    parameters: tuple[dict[str, Any], ...]
    body_schema: dict[str, Any] | None
    body_required: bool
    body_media_types: tuple[str, ...]
    security: tuple[str, ...]
    responses: dict[str, ResponseSpec]
    # role-specific parts, empty where they do not apply
    inputs: tuple[Input, ...] = ()
    vars: dict[str, Source] = field(default_factory=dict)
    id_source: Source | None = None
    file_source: Source | None = None
    create_response: Template | None = None
    create_status: int = 200
    state_responses: dict[str, Template] = field(default_factory=dict)
    # other request targets ("path?query") that clients are known to send for this operation
    aliases: tuple[re.Pattern[str], ...] = ()

    def response_for(self, status: int) -> ResponseSpec | None:
        return self.responses.get(str(status)) or self.responses.get(f"{str(status)[0]}XX") or self.responses.get("default")


@dataclass(frozen=True, slots=True)
class Dialect:
    """A loaded, checked and compiled dialect."""

    name: str
    path: Path
    document: dict[str, Any]
    resolved: dict[str, Any]
    title: str
    id_template: IdentityTemplate
    name_template: IdentityTemplate
    identity_defaults: dict[str, str]
    file_template: IdentityTemplate
    result_url: Template | None  # None: results are inline or references (gs://), not served here
    lifecycle: Lifecycle
    defaults: dict[str, Any]
    outcomes: dict[str, Any]
    error_body: Template
    error_details: Template | None
    error_kinds: dict[str, ErrorKind]
    security_schemes: dict[str, dict[str, Any]]
    operations: tuple[Operation, ...]
    read: ReadModel

    def by_role(self, role: Role) -> tuple[Operation, ...]:
        return tuple(op for op in self.operations if op.role == role)

    def error_kind(self, name: str) -> ErrorKind:
        return self.error_kinds[name]


def load_dialects(folder: Path | None = None) -> list[Dialect]:
    """Every ``*.yaml`` dialect in ``folder`` (default: the bundled specs), sorted by name."""
    folder = folder or bundled_specs_dir()
    paths = sorted(p for p in folder.glob("*.yaml") if not p.name.startswith("_"))
    if not paths:
        raise SpecError(str(folder), "", "no dialect documents (*.yaml) in this folder")
    return [load_dialect(p) for p in paths]


def load_dialect(path: Path) -> Dialect:
    """Load, check and compile one dialect document; raises :class:`SpecError`."""
    source = str(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(source, "", f"cannot read YAML: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3.1"):
        raise SpecError(source, "/openapi", "expected an OpenAPI 3.1 document")
    check_extensions(document, source)
    resolved = resolve_refs(document, source)
    return _Builder(path, document, resolved).build()


class _Builder:
    def __init__(self, path: Path, document: dict[str, Any], resolved: dict[str, Any]) -> None:
        self.path = path
        self.source = str(path)
        self.document = document
        self.resolved = resolved
        self.x: dict[str, Any] = document["x-videogen"]

    def template(self, node: Any, where: str, allowed: frozenset[str] | None = None) -> Template:
        try:
            tpl = compile_template(node, where)
        except TemplateError as exc:
            raise SpecError(self.source, where, str(exc)) from None
        if allowed is not None and not tpl.names <= allowed:
            unknown = ", ".join(sorted(tpl.names - allowed))
            raise SpecError(self.source, where, f"unknown template names: {unknown} (known: {', '.join(sorted(allowed))})")
        return tpl

    def build(self) -> Dialect:
        x = self.x
        ident = x["identity"]
        schemes = self.resolved.get("components", {}).get("securitySchemes", {})
        operations = tuple(self.operations(schemes))
        for role in ("create", "poll"):
            if not any(op.role == role for op in operations):
                raise SpecError(self.source, "/paths", f"no operation has x-videogen role {role!r}")
        errors = x["errors"]
        kinds = {
            name: ErrorKind(
                name, int(k["code"]), str(k.get("reason", "")), {a: str(b) for a, b in k.items() if a not in ("code", "reason")}
            )
            for name, k in errors["kinds"].items()
        }
        lc = x["lifecycle"]
        return Dialect(
            name=self.path.stem,
            path=self.path,
            document=self.document,
            resolved=self.resolved,
            title=str(self.document.get("info", {}).get("title", self.path.stem)),
            id_template=IdentityTemplate(ident["id"], self.source, "/x-videogen/identity/id"),
            name_template=IdentityTemplate(ident.get("name", "{id}"), self.source, "/x-videogen/identity/name"),
            identity_defaults={k: str(v) for k, v in ident.get("defaults", {}).items()},
            file_template=IdentityTemplate(ident["file"], self.source, "/x-videogen/identity/file"),
            result_url=self.template(x["result_url"], "/x-videogen/result_url") if "result_url" in x else None,
            lifecycle=Lifecycle(
                float(lc["queued_s"]),
                float(lc["running_s"]),
                {m: {k: float(v) for k, v in o.items()} for m, o in lc.get("models", {}).items()},
            ),
            defaults=dict(x.get("defaults", {})),
            outcomes=dict(x.get("outcomes", {})),
            error_body=self.template(
                errors["body"], "/x-videogen/errors/body", frozenset({"code", "message", "reason", "details", "field", "kind"})
            ),
            error_details=self.template(errors["details"], "/x-videogen/errors/details", frozenset({"violations"}))
            if "details" in errors
            else None,
            error_kinds=kinds,
            security_schemes=schemes,
            operations=operations,
            read=self.read_model(),
        )

    def operations(self, schemes: dict[str, Any]) -> list[Operation]:
        top_security = self.resolved.get("security", [])
        out = []
        for path, item in self.resolved.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method not in item:
                    continue
                raw = item[method]
                where = f"/paths/{path.replace('/', '~1')}/{method}"
                params = {(p["in"], p["name"]): p for p in [*shared, *raw.get("parameters", [])]}
                body = raw.get("requestBody") or {}
                media = body.get("content", {})
                schema = media.get("application/json", {}).get("schema") if media else None
                security = tuple(name for req in raw.get("security", top_security) for name in req)
                for name in security:
                    if name not in schemes:
                        raise SpecError(self.source, where, f"security scheme {name!r} is not defined")
                responses = {
                    str(code): ResponseSpec(
                        str(code), {ct: (c or {}).get("schema", {}) for ct, c in (r.get("content") or {}).items()}, r.get("headers") or {}
                    )
                    for code, r in raw.get("responses", {}).items()
                }
                op = Operation(
                    operation_id=str(raw.get("operationId", f"{method} {path}")),
                    method=method.upper(),
                    path=path,
                    role=None,
                    parameters=tuple(params.values()),
                    body_schema=schema,
                    body_required=bool(body.get("required", False)),
                    body_media_types=tuple(media),
                    security=security,
                    responses=responses,
                )
                ext = self.document["paths"][path][method].get("x-videogen")
                out.append(self.with_role(op, ext, where) if ext else op)
        return out

    def sources(self, mapping: dict[str, str], where: str) -> dict[str, Source]:
        return {k: Source.parse(v, self.source, f"{where}/{k}") for k, v in mapping.items()}

    def aliases(self, op: Operation, raw: list[dict[str, str]], where: str) -> tuple[re.Pattern[str], ...]:
        declared = {p["name"] for p in op.parameters if p["in"] in ("path", "query")}
        out = []
        for i, alias in enumerate(raw):
            try:
                pattern = re.compile(alias["match"])
            except re.error as exc:
                raise SpecError(self.source, f"{where}/{i}/match", f"not a regular expression: {exc}") from None
            unknown = set(pattern.groupindex) - declared
            if unknown:
                raise SpecError(
                    self.source, f"{where}/{i}/match", f"named groups {sorted(unknown)} are not path or query parameters of {op.path}"
                )
            out.append(pattern)
        return tuple(out)

    def with_role(self, op: Operation, ext: dict[str, Any], where: str) -> Operation:
        role = ext["role"]
        where = f"{where}/x-videogen"
        path_params = {p["name"] for p in op.parameters if p["in"] == "path"}
        declared = {(p["in"], p["name"]) for p in op.parameters}
        vars_ = self.sources(ext.get("vars", {}), f"{where}/vars")
        for name, src in vars_.items():
            if src.kind == "path" and src.key not in path_params:
                raise SpecError(self.source, f"{where}/vars/{name}", f"path parameter {src.key!r} is not in {op.path}")
        common: dict[str, Any] = {"vars": vars_, "aliases": self.aliases(op, ext.get("aliases", []), f"{where}/aliases")}
        if role == "create":
            inputs = tuple(Input(name, src) for name, src in self.sources(ext["inputs"], f"{where}/inputs").items())
            for inp in inputs:
                if inp.source.kind in ("path", "query") and (inp.source.kind, inp.source.key) not in declared:
                    raise SpecError(
                        self.source, f"{where}/inputs/{inp.name}", f"{inp.source.kind} parameter {inp.source.key!r} is not declared"
                    )
            if "model" not in {i.name for i in inputs}:
                raise SpecError(self.source, f"{where}/inputs", "a create operation must say where 'model' comes from")
            return _replace(
                op,
                role="create",
                inputs=inputs,
                create_response=self.template(ext["response"], f"{where}/response", CONTEXT_NAMES),
                create_status=int(ext.get("status", 200)),
                **common,
            )
        if role == "poll":
            responses = {state: self.template(ext["responses"][state], f"{where}/responses/{state}", CONTEXT_NAMES) for state in STATES}
            return _replace(
                op, role="poll", id_source=Source.parse(ext["id"], self.source, f"{where}/id"), state_responses=responses, **common
            )
        return _replace(op, role="download", file_source=Source.parse(ext["file"], self.source, f"{where}/file"), **common)

    def read_model(self) -> ReadModel:
        r = self.x["read"]
        where = "/x-videogen/read"

        def ptr(text: str, at: str) -> Pointer:
            try:
                return Pointer.parse(text)
            except ValueError as exc:
                raise SpecError(self.source, f"{where}/{at}", str(exc)) from None

        rules = tuple(
            StateRule(rule["state"], tuple((ptr(k, f"states/{i}"), v) for k, v in rule["when"].items()))
            for i, rule in enumerate(r["states"])
        )
        example = None
        if "example" in r:
            example = self.find_example(r["example"])
        result = r["result"]
        poll = r["poll"]
        return ReadModel(
            handle=ptr(r["handle"], "handle"),
            poll_method=poll["method"].upper(),
            poll_path=poll["path"],
            poll_query=dict(poll.get("query", {})),
            poll_body=poll.get("body"),
            echo=ptr(r["echo"], "echo") if "echo" in r else None,
            states=rules,
            results=ptr(r["results"], "results"),
            result_url=ptr(result["url"], "result/url") if "url" in result else None,
            result_base64=ptr(result["base64"], "result/base64") if "base64" in result else None,
            error=ptr(r["error"], "error"),
            example=example,
        )

    def find_example(self, name: str) -> Any:
        for op_item in self.resolved.get("paths", {}).values():
            for method in METHODS:
                content = op_item.get(method, {}).get("requestBody", {}).get("content", {})
                for media in content.values():
                    if name in media.get("examples", {}):
                        return media["examples"][name]["value"]
        raise SpecError(self.source, "/x-videogen/read/example", f"no request example named {name!r}")


# The names a response template may read; the simulator builds this context.
CONTEXT_NAMES = frozenset(
    {
        "id",
        "name",
        "token",
        "model",
        "vars",
        "input",
        "state",
        "progress",
        "base_url",
        "created_s",
        "created_ms",
        "created_iso",
        "updated_s",
        "updated_ms",
        "updated_iso",
        "videos",
        "error",
        "filter",
    }
)


def _replace(op: Operation, **changes: Any) -> Operation:
    from dataclasses import replace

    return replace(op, **changes)
