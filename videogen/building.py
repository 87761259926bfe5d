"""Build a :class:`~videogen.dialect.Dialect` from a document: parse, compile, then check it whole.

The order is the pipeline's: read the YAML, check the extension blocks against
their schemas (:mod:`videogen.extension`), resolve ``$ref``s, compile every
operation, template, identity and rule, and hand the result to
:mod:`videogen.checking`, which proves the parts fit together.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from videogen.checking import check_dialect
from videogen.context import OPERATION, Fields, leaves, with_fields
from videogen.credentials import Slot, slots_for
from videogen.dialect import (
    METHODS,
    Dialect,
    ErrorKind,
    Event,
    FileRule,
    IdentityTemplate,
    Lifecycle,
    ListFilter,
    Operation,
    Page,
    ReadModel,
    ResponseSpec,
    StateRule,
    WebhookConfig,
)
from videogen.errors import SpecError, TemplateError
from videogen.extension import check_extensions
from videogen.inputs import DERIVED, Source, compile_inputs
from videogen.paths import PathTemplate, Router
from videogen.pointer import Pointer
from videogen.published import CHOICE, is_choice, published_document
from videogen.refs import resolve_refs
from videogen.states import STATES
from videogen.template import Template, compile_template
from videogen.yamlsafe import UnsafeYamlError, load_yaml_file

__all__ = ["build", "escape"]

_IDENTITY_NAMES = frozenset({"id", "token", "model", "created_s"})


def escape(step: str) -> str:
    """One JSON-pointer step (RFC 6901)."""
    return step.replace("~", "~0").replace("/", "~1")


_C = re._constants
_REPEATS = frozenset({_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT})


def nested_repeat(pattern: str) -> bool:
    """Whether a repetition holds another repetition, the shape behind catastrophic backtracking
    (``(a+)+$``): a conservative test, so an alias is written with one level of repetition."""

    def walk(items: Any, inside: bool) -> bool:
        for op, av in items:
            if op in _REPEATS:
                many = av[1] > 1
                if many and inside:
                    return True
                if walk(av[2], inside or many):
                    return True
            elif op is _C.SUBPATTERN or op is _C.ASSERT or op is _C.ASSERT_NOT:
                if walk(av[-1], inside):
                    return True
            elif op is _C.ATOMIC_GROUP:
                if walk(av, inside):
                    return True
            elif op is _C.BRANCH and any(walk(branch, inside) for branch in av[1]):
                return True
        return False

    return walk(re._parser.parse(pattern), False)


def read_document(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        document = load_yaml_file(path)
    except UnsafeYamlError as exc:
        raise SpecError(source, "", f"cannot read YAML: {str(exc).removeprefix(source + ': ')}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3.1"):
        raise SpecError(source, "/openapi", "expected an OpenAPI 3.1 document")
    _string_keys(document, "", source)
    return document


def _string_keys(node: Any, where: str, source: str) -> None:
    """Every mapping key is a string: YAML reads unquoted on, off, yes, no and numbers otherwise."""
    stack = [(node, where)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if not isinstance(key, str):
                    problem = f"the key {key!r} is not a string: quote it (YAML reads unquoted on, off, yes, no and numbers as others)"
                    raise SpecError(source, where, problem)
                stack.append((value, f"{where}/{escape(key)}"))
        elif isinstance(node, list):
            stack.extend((value, f"{where}/{i}") for i, value in enumerate(node))


def build(path: Path) -> Dialect:
    """Load, check and compile one dialect document; raises :class:`SpecError`."""
    document = read_document(path)
    check_extensions(document, str(path))
    resolved = resolve_refs(document, str(path))
    dialect = _Builder(path, document, resolved).build()
    check_dialect(dialect)
    return dialect


_EXPRESSION = re.compile(r"^\{\$request\.(?:body#(?P<body>/.*)|query\.(?P<query>.+)|header\.(?P<header>.+))\}$")
_MULTIPART = "multipart/form-data"
_JSON = "application/json"


def expression_source(expression: str, source: str, where: str) -> Source:
    """The request place an OpenAPI runtime expression names: ``{$request.body#/callback_url}``."""
    m = _EXPRESSION.match(expression)
    if m is None:
        raise SpecError(
            source, where, f"a callback URL must be a runtime expression such as '{{$request.body#/callback_url}}', got {expression!r}"
        )
    if m.group("body") is not None:
        return Source.parse(f"body:{m.group('body')}", source, where)
    if m.group("query") is not None:
        return Source.parse(f"query:{m.group('query')}", source, where)
    return Source.parse(f"header:{m.group('header')}", source, where)


class _Builder:
    def __init__(self, path: Path, document: dict[str, Any], resolved: dict[str, Any]) -> None:
        self.path = path
        self.source = str(path)
        self.document = document
        self.resolved = resolved
        self.x: dict[str, Any] = document["x-videogen"]
        self.schemes: dict[str, dict[str, Any]] = resolved.get("components", {}).get("securitySchemes", {})

    def template(self, node: Any, where: str) -> Template:
        try:
            return compile_template(node, where)
        except TemplateError as exc:
            raise SpecError(self.source, where, str(exc)) from None

    def pointer(self, text: str, where: str) -> Pointer:
        try:
            return Pointer.parse(text)
        except ValueError as exc:
            raise SpecError(self.source, where, str(exc)) from None

    def build(self) -> Dialect:
        x = self.x
        ident = x["identity"]
        operations = tuple(self.operations())
        for role in ("create", "poll"):
            if not any(op.role == role for op in operations):
                raise SpecError(self.source, "/paths", f"no operation has x-videogen role {role!r}")
        errors = x["errors"]
        kinds = {
            name: ErrorKind(
                name,
                int(k["code"]),
                str(k.get("reason", "")),
                {a: str(b) for a, b in k.items() if a not in ("code", "reason", CHOICE)},
                choice=is_choice(k),
            )
            for name, k in errors["kinds"].items()
        }
        lc = x["lifecycle"]
        router: Router[Operation] = Router()
        for op in operations:
            router.add(op.method, op.path, op)
        id_template = IdentityTemplate(ident["id"], self.source, "/x-videogen/identity/id")
        name_template = IdentityTemplate(ident.get("name", "{id}"), self.source, "/x-videogen/identity/name")
        defaults = dict(x.get("defaults", {}))
        var_names = (set(ident.get("defaults", {})) | {n for op in operations for n in op.vars}) - _IDENTITY_NAMES
        input_names = {n for op in operations if op.inputs for n in op.inputs.names} | set(defaults) | set(DERIVED)
        input_names.discard("model")
        context = with_fields(OPERATION, vars=Fields(leaves(*var_names)), input=Fields(leaves(*input_names)))
        secret = {slot.name.lower() for slot in slots_for(self.schemes, self.schemes)}
        outcomes = x.get("outcomes", {})
        failed, filtered = outcomes.get("failed", {}), outcomes.get("filtered", {})
        reasons = list(filtered.get("reasons", ["The request was blocked by the safety filter."]))
        hooks = x.get("webhooks", {})
        return Dialect(
            name=self.path.stem,
            path=self.path,
            document=self.document,
            resolved=self.resolved,
            title=str(self.document.get("info", {}).get("title", self.path.stem)),
            version=int(x["version"]),
            id_template=id_template,
            name_template=name_template,
            identity_defaults={k: str(v) for k, v in ident.get("defaults", {}).items()},
            file_template=IdentityTemplate(ident.get("file", "{token}v{index}"), self.source, "/x-videogen/identity/file"),
            result_url=self.template(x["result_url"], "/x-videogen/result_url") if "result_url" in x else None,
            lifecycle=Lifecycle(
                float(lc["queued_s"]),
                float(lc["running_s"]),
                {m: {k: float(v) for k, v in o.items()} for m, o in lc.get("models", {}).items()},
                float(lc["result_ttl_s"]) if "result_ttl_s" in lc else None,
                str(lc.get("expired", "not_found")),
            ),
            defaults=defaults,
            outcomes=dict(outcomes),
            failure={
                "code": failed.get("code", 500),
                "reason": failed.get("reason", ""),
                "message": failed.get("message", "generation failed"),
            },
            filter={
                "reasons": reasons,
                "reason": reasons[0],
                "code": filtered.get("code", 400),
                "message": filtered.get("message", reasons[0]),
            },
            error_body=self.template(errors["body"], "/x-videogen/errors/body"),
            error_details=self.template(errors["details"], "/x-videogen/errors/details") if "details" in errors else None,
            error_kinds=kinds,
            security_schemes=self.schemes,
            operations=operations,
            read=self.read_model(),
            router=router,
            context=context,
            secret_names=frozenset(secret),
            states=tuple(s for s in STATES if all(s in op.state_responses for op in operations if op.role == "poll")),
            published=published_document(self.document),
            sizes={res.lower(): {r: _size(text) for r, text in by_ratio.items()} for res, by_ratio in x.get("sizes", {}).items()},
            webhooks=tuple(self.webhooks()),
            webhook_config=WebhookConfig(
                signing=hooks.get("signing", "none"),
                secret=hooks.get("secret"),
                attempts=int(hooks.get("attempts", 5)),
                backoff_s=float(hooks.get("backoff_s", 1.0)),
                max_backoff_s=float(hooks.get("max_backoff_s", 60.0)),
                timeout_s=float(hooks.get("timeout_s", 5.0)),
            ),
        )

    # -- operations ---------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        top_security = self.resolved.get("security", [])
        out = []
        for path, item in self.resolved.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method not in item:
                    continue
                raw = item[method]
                where = f"/paths/{escape(path)}/{method}"
                params = {(p["in"], p["name"]): p for p in [*shared, *raw.get("parameters", [])]}
                body = raw.get("requestBody") or {}
                content = body.get("content") or {}
                schemas = {media: (c or {}).get("schema") or {} for media, c in content.items() if media in (_JSON, _MULTIPART)}
                security = tuple(name for req in raw.get("security", top_security) for name in req)
                for name in security:
                    if name not in self.schemes:
                        raise SpecError(
                            self.source, f"{where}/security", f"security scheme {name!r} is not defined in /components/securitySchemes"
                        )
                responses = {
                    str(code): ResponseSpec(
                        str(code),
                        {ct: (c or {}).get("schema", {}) for ct, c in (r.get("content") or {}).items()},
                        r.get("headers") or {},
                        choice=is_choice(self.document["paths"][path][method].get("responses", {}).get(code)) or is_choice(r),
                    )
                    for code, r in raw.get("responses", {}).items()
                }
                slots = slots_for(security, self.schemes)
                op = Operation(
                    operation_id=str(raw.get("operationId", f"{method} {path}")),
                    method=method.upper(),
                    path=path,
                    route=PathTemplate(path),
                    role=None,
                    parameters=tuple(params.values()),
                    body_schema=schemas.get(_JSON, schemas.get(_MULTIPART)),
                    body_required=bool(body.get("required", False)),
                    security=security,
                    credentials=slots,
                    headers=self.required_headers(path, shared, raw.get("parameters", []), slots, where),
                    responses=responses,
                    where=where,
                    body_schemas=schemas,
                    choice=is_choice(raw),
                    files=self.files(content.get(_MULTIPART) or {}, f"{where}/requestBody/content/multipart~1form-data"),
                )
                ext = self.document["paths"][path][method].get("x-videogen")
                out.append(self.with_role(op, ext, raw) if ext else op)
        return out

    def required_headers(
        self, path: str, shared: list[dict[str, Any]], own: list[dict[str, Any]], slots: tuple[Slot, ...], where: str
    ) -> tuple[tuple[str, str], ...]:
        """The required, non-credential header parameters and the value every client sends
        (the parameter's example, else its schema's const, example, default or first enum value)."""
        keys = {s.name.lower() for s in slots if s.location == "header"}
        found: dict[str, tuple[str, str]] = {}
        placed = [(p, f"/paths/{escape(path)}/parameters/{i}") for i, p in enumerate(shared)]
        placed += [(p, f"{where}/parameters/{i}") for i, p in enumerate(own)]
        for param, at in placed:
            if param.get("in") != "header":
                continue
            name = str(param["name"])
            found.pop(name.lower(), None)  # an operation's own parameter overrides the path's
            if not param.get("required") or name.lower() in keys:
                continue
            schema = param.get("schema") or {}
            candidates = (param.get("example"), schema.get("const"), schema.get("example"), schema.get("default"))
            value = next((v for v in (*candidates, *(schema.get("enum") or [])[:1]) if v is not None), None)
            if value is None:
                raise SpecError(
                    self.source,
                    at,
                    f"the required header {name!r} has no value a client could send: give it an example, a default or an enum",
                )
            found[name.lower()] = (name, str(value))
        return tuple(found.values())

    def files(self, media: dict[str, Any], where: str) -> dict[str, FileRule]:
        """The file parts of a multipart body: properties written as binary strings."""
        properties = (media.get("schema") or {}).get("properties") or {}
        encoding = media.get("encoding") or {}
        out = {}
        for name, schema in properties.items():
            if not isinstance(schema, dict) or not (schema.get("format") == "binary" or "contentMediaType" in schema):
                continue
            types = str((encoding.get(name) or {}).get("contentType") or schema.get("contentMediaType") or "application/octet-stream")
            out[name] = FileRule(tuple(t.strip().lower() for t in types.split(",") if t.strip()), schema.get("maxLength"))
        return out

    def sources(self, mapping: dict[str, str], where: str) -> dict[str, Source]:
        return {k: Source.parse(v, self.source, f"{where}/{k}") for k, v in mapping.items()}

    def optional_source(self, ext: dict[str, Any], key: str, where: str) -> Source | None:
        return Source.parse(ext[key], self.source, f"{where}/{key}") if key in ext else None

    def aliases(self, raw: list[dict[str, str]], where: str) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, alias in enumerate(raw):
            try:
                out.append(re.compile(alias["match"]))
            except re.error as exc:
                raise SpecError(self.source, f"{where}/{i}/match", f"not a regular expression: {exc}") from None
            if nested_repeat(alias["match"]):
                raise SpecError(
                    self.source,
                    f"{where}/{i}/match",
                    "a repetition inside a repetition (like (a+)+) can take exponential time on a hostile path; "
                    "write it with one level of repetition",
                )
        return tuple(out)

    def with_role(self, op: Operation, ext: dict[str, Any], raw: dict[str, Any]) -> Operation:
        role = ext["role"]
        where = f"{op.where}/x-videogen"
        common: dict[str, Any] = {
            "role": role,
            "vars": self.sources(ext.get("vars", {}), f"{where}/vars"),
            "aliases": self.aliases(ext.get("aliases", []), f"{where}/aliases"),
            "id_source": self.optional_source(ext, "id", where),
            "status": int(ext.get("status", 200)),
        }
        if "response" in ext:
            common["response"] = self.template(ext["response"], f"{where}/response")
        if role == "create":
            return replace(
                op,
                inputs=compile_inputs(ext["inputs"], self.source, f"{where}/inputs"),
                source=self.optional_source(ext, "source", where),
                inherit=tuple(ext.get("inherit", ())),
                events_filter=self.optional_source(ext, "events", where),
                callbacks=tuple(self.callbacks(op, raw)),
                **common,
            )
        if role == "poll":
            responses = {state: self.template(body, f"{where}/responses/{state}") for state, body in ext["responses"].items()}
            unknown = ext.get("unknown")
            return replace(
                op,
                state_responses=responses,
                unknown=self.template(unknown["response"], f"{where}/unknown/response") if unknown else None,
                unknown_status=int(unknown.get("status", 200)) if unknown else 404,
                **common,
            )
        if role == "download":
            if ("file" in ext) == ("id" in ext):
                raise SpecError(self.source, where, "a download names its result by 'file' (a file id) or by 'id' (the operation's id)")
            return replace(
                op,
                file_source=self.optional_source(ext, "file", where),
                variant_source=self.optional_source(ext, "variant", where),
                variants=dict(ext.get("variants", {"video": "video/mp4"})),
                **common,
            )
        if role == "list":
            page = ext["page"]
            at = f"{where}/page"
            return replace(
                op,
                page=Page(
                    style=page["style"],
                    limit=Source.parse(page["limit"], self.source, f"{at}/limit"),
                    after=self.optional_source(page, "after", at),
                    offset=self.optional_source(page, "offset", at),
                    page=self.optional_source(page, "page", at),
                    order=self.optional_source(page, "order", at),
                    default_limit=int(page.get("default_limit", 20)),
                    max_limit=int(page.get("max_limit", 100)),
                    default_order=page.get("default_order", "desc"),
                ),
                item_operation=ext["item"],
                filters=tuple(
                    ListFilter(
                        f["by"],
                        Source.parse(f["from"], self.source, f"{where}/filters/{i}/from"),
                        {k: tuple(v) for k, v in f.get("map", {}).items()},
                    )
                    for i, f in enumerate(ext.get("filters", []))
                ),
                items=self.pointer(ext["items"], f"{where}/items"),
                item_id=self.pointer(ext["item_id"], f"{where}/item_id"),
                **common,
            )
        if role in ("delete", "cancel"):
            defaults = (
                {"pending": "delete", "finished": "delete"}
                if role == "delete"
                else {"pending": "cancel", "finished": "error:invalid_request"}
            )
            return replace(op, effects={**defaults, **ext.get("effects", {})}, **common)
        return replace(op, **common)  # static

    def event(self, key: str, block: dict[str, Any], url: Source | None, where: str, target: dict[str, Any]) -> Event:
        content = (target.get("requestBody") or {}).get("content") or {}
        return Event(
            key=key,
            name=str(block.get("name", key)),
            on=tuple(block["states"]),
            body=self.template(block["body"], f"{where}/body"),
            url=url,
            where=where,
            schema=(content.get("application/json") or {}).get("schema"),
        )

    def callbacks(self, op: Operation, raw: dict[str, Any]) -> list[Event]:
        out = []
        for name, callback in (raw.get("callbacks") or {}).items():
            for expression, item in (callback or {}).items():
                for verb, target in (item or {}).items():
                    block = (target or {}).get("x-videogen") if isinstance(target, dict) else None
                    if block is None:
                        continue
                    where = f"{op.where}/callbacks/{escape(name)}/{escape(expression)}/{verb}"
                    url = expression_source(expression, self.source, f"{op.where}/callbacks/{escape(name)}")
                    out.append(self.event(f"{op.operation_id}/callbacks/{name}", block, url, f"{where}/x-videogen", target))
        return out

    def webhooks(self) -> list[Event]:
        out = []
        for name, item in (self.resolved.get("webhooks") or {}).items():
            for verb, target in (item or {}).items():
                block = (target or {}).get("x-videogen") if isinstance(target, dict) else None
                if block is not None:
                    out.append(self.event(f"webhooks/{name}/{verb}", block, None, f"/webhooks/{escape(name)}/{verb}/x-videogen", target))
        return out

    # -- the client's half ---------------------------------------------------------------

    def read_model(self) -> ReadModel:
        r = self.x["read"]
        where = "/x-videogen/read"
        rules = tuple(
            StateRule(
                rule["state"],
                tuple((self.pointer(k, f"{where}/states/{i}/when/{escape(k)}"), v) for k, v in rule["when"].items()),
                f"{where}/states/{i}",
            )
            for i, rule in enumerate(r["states"])
        )
        result = r["result"]
        poll = r["poll"]
        if "results" not in r and "route" not in result:
            raise SpecError(self.source, where, "say where results are: 'results' (a pointer into the poll answer) or result.route")
        example, example_op = self.find_example(r["example"]) if "example" in r else (None, None)
        return ReadModel(
            handle=self.pointer(r["handle"], f"{where}/handle"),
            poll_method=poll["method"].upper(),
            poll_path=poll["path"],
            poll_query=dict(poll.get("query", {})),
            poll_body=poll.get("body"),
            echo=self.pointer(r["echo"], f"{where}/echo") if "echo" in r else None,
            states=rules,
            results=self.pointer(r["results"], f"{where}/results") if "results" in r else None,
            result_url=self.pointer(result["url"], f"{where}/result/url") if "url" in result else None,
            result_base64=self.pointer(result["base64"], f"{where}/result/base64") if "base64" in result else None,
            error=self.pointer(r["error"], f"{where}/error"),
            example=example,
            example_operation=example_op,
            result_route=result.get("route"),
            result_query=dict(result.get("query", {})),
        )

    def find_example(self, name: str) -> tuple[Any, str]:
        """The value of the request example ``name``, and the operationId it belongs to."""
        for path, op_item in self.resolved.get("paths", {}).items():
            for method in METHODS:
                content = op_item.get(method, {}).get("requestBody", {}).get("content", {})
                for media in content.values():
                    if name in media.get("examples", {}):
                        return media["examples"][name]["value"], str(op_item[method].get("operationId", f"{method} {path}"))
        raise SpecError(self.source, "/x-videogen/read/example", f"no request example named {name!r}")


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)
