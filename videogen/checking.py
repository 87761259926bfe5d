"""Prove that a built dialect's parts fit together, before it serves a single request.

Each check turns a mistake that would otherwise surface as a 500 (or as a kit
verdict against the mock itself) into a :class:`~videogen.errors.SpecError`
naming the JSON pointer:

- every dotted name a template reads exists in its context (:mod:`videogen.context`);
- every source names a declared parameter, or a place the body's schema has;
- every state's poll template renders a body that ``read.states`` reads back as that state;
- the create answer carries the handle, and a success carries its results where ``read`` says;
- ``read.poll`` lands on the poll operation, and an alias's groups name parameters.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from videogen.context import (
    ERROR,
    ERROR_DETAILS,
    EVENT,
    IDENTITY,
    LIST,
    RESULT_URL,
    STATIC,
    UNKNOWN,
    Fields,
    Shape,
    leaves,
    problem,
    with_fields,
)
from videogen.dialect import Dialect, Operation
from videogen.errors import SpecError, TemplateError
from videogen.inputs import Source
from videogen.paths import fill
from videogen.reading import matching_rule, poll_request, results_of, well_formed_error
from videogen.samples import sample_context, sample_identity
from videogen.states import STATES, reads_as
from videogen.template import Template

__all__ = ["check_dialect", "schema_has"]


def check_dialect(dialect: Dialect) -> None:
    """Raise :class:`SpecError` for the first part of ``dialect`` that does not fit the others."""
    _Checker(dialect).run()


_OPEN: dict[str, Any] = {}


def schema_at(schema: Any, steps: tuple[str, ...]) -> dict[str, Any] | None:
    """The sub-schema a value at ``steps`` has; ``{}`` where the schema leaves it open; None where
    the schema has nothing there (its properties are listed and the step is not one of them)."""
    if not isinstance(schema, dict):
        return _OPEN
    if not steps:
        return schema
    for key in ("allOf", "anyOf", "oneOf"):
        for alternative in schema.get(key) or []:
            found = schema_at(alternative, steps)
            if found is not None and found is not _OPEN:
                return found
    step, rest = steps[0], steps[1:]
    properties = schema.get("properties")
    items = schema.get("items")
    if isinstance(properties, dict) and step in properties:
        return schema_at(properties[step], rest)
    if isinstance(items, dict) and step.isascii() and step.isdigit():
        return schema_at(items, rest)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        return schema_at(extra, rest)
    if isinstance(properties, dict) or extra is False or isinstance(items, dict):
        return None
    return _OPEN


def schema_has(schema: Any, steps: tuple[str, ...]) -> bool:
    """Whether a JSON Schema lets a value exist at ``steps``; an open schema lets anything exist."""
    return schema_at(schema, steps) is not None


def _json_schema(op: Operation, status: int = 200) -> Any:
    spec = op.response_for(status)
    if spec is None:
        return _OPEN
    return next((schema for media, schema in spec.content.items() if "json" in media), _OPEN)


class _Checker:
    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.source = str(dialect.path)

    def fail(self, where: str, problem_: str) -> SpecError:
        return SpecError(self.source, where, problem_)

    def run(self) -> None:
        self.identities()
        self.templates()
        for op in self.d.operations:
            self.sources(op)
            self.aliases(op)
            self.role_parts(op)
        self.kinds()
        self.events()
        self.lifecycle()
        self.read_pointers()

    # -- names ------------------------------------------------------------------------

    def names(self, template: Template, shape: Shape, where: str) -> None:
        for path in sorted(template.paths):
            why = problem(shape, path)
            if why is not None:
                raise self.fail(where, f"template reads {{{'.'.join(path)}}}: {why}")

    def identities(self) -> None:
        d = self.d
        provided = set(d.context.fields["vars"].fields) | set(IDENTITY.fields) if isinstance(d.context.fields["vars"], Fields) else set()
        self.names(d.id_template.template, Fields(leaves(*provided)), "/x-videogen/identity/id")
        self.names(d.name_template.template, Fields(leaves(*provided, "id")), "/x-videogen/identity/name")
        self.names(d.file_template.template, Fields(leaves("token", "index")), "/x-videogen/identity/file")

    def templates(self) -> None:
        d = self.d
        if d.result_url is not None:
            self.names(d.result_url, with_fields(RESULT_URL, vars=d.context.fields["vars"]), "/x-videogen/result_url")  # type: ignore[arg-type]
        extra = {key for kind in d.error_kinds.values() for key in kind.extra}
        self.names(d.error_body, with_fields(ERROR, kind=Fields(leaves("name", "code", "reason", *extra))), "/x-videogen/errors/body")
        if d.error_details is not None:
            self.names(d.error_details, ERROR_DETAILS, "/x-videogen/errors/details")
        for kind in d.error_kinds.values():  # a kind without an extra string the body reads would 500
            ctx = {"code": kind.code, "reason": kind.reason, "message": "m", "details": None, "field": None, "request_id": "r"}
            try:
                d.error_body.render({**ctx, "kind": {"name": kind.name, "code": kind.code, "reason": kind.reason, **kind.extra}})
            except TemplateError as exc:
                raise self.fail(f"/x-videogen/errors/kinds/{kind.name}", f"the error body cannot render for this kind: {exc}") from None
        shapes = {"list": LIST, "static": STATIC}
        for op in d.operations:
            where = f"{op.where}/x-videogen"
            if op.response is not None:
                self.names(op.response, shapes.get(op.role or "", d.context), f"{where}/response")
            for state, template in op.state_responses.items():
                self.names(template, d.context, f"{where}/responses/{state}")
            if op.unknown is not None:
                self.names(op.unknown, UNKNOWN, f"{where}/unknown/response")
        for event in d.events:
            self.names(event.body, with_fields(d.context, event=EVENT), f"{event.where}/body")

    # -- sources ----------------------------------------------------------------------

    def check_source(self, op: Operation, src: Source, where: str) -> None:
        if src.kind == "body":
            assert src.pointer is not None
            if not op.body_schemas:
                raise self.fail(where, f"{op.method} {op.path} documents no request body to read {src.key!r} from")
            if not any(schema_has(schema, src.pointer.steps) for schema in op.body_schemas.values()):
                raise self.fail(where, f"no request body schema ({', '.join(op.body_schemas)}) has anything at {src.key!r}")
            return
        if op.parameter(src.kind, src.key) is None:
            declared = ", ".join(p["name"] for p in op.parameters if p["in"] == src.kind) or "none"
            raise self.fail(where, f"{src.kind} parameter {src.key!r} is not declared on {op.method} {op.path} (declared: {declared})")

    def sources(self, op: Operation) -> None:
        where = f"{op.where}/x-videogen"
        for name, src in op.vars.items():
            self.check_source(op, src, f"{where}/vars/{name}")
        if op.inputs is not None:
            for inp, src in op.inputs.sources():
                self.check_source(op, src, inp.where)
        named = {"id": op.id_source, "file": op.file_source, "source": op.source, "events": op.events_filter, "variant": op.variant_source}
        for key, maybe in named.items():
            if maybe is not None:
                self.check_source(op, maybe, f"{where}/{key}")
        for i, flt in enumerate(op.filters):
            self.check_source(op, flt.source, f"{where}/filters/{i}/from")
        if op.page is not None:
            for key in ("limit", "after", "offset", "page", "order"):
                paged: Source | None = getattr(op.page, key)
                if paged is not None:
                    self.check_source(op, paged, f"{where}/page/{key}")
        for event in op.callbacks:
            assert event.url is not None
            self.check_source(op, event.url, event.where.rsplit("/", 3)[0])

    def role_parts(self, op: Operation) -> None:
        """What each role refers to exists: the model, inherited inputs, the listed items' poll, variants."""
        d, where = self.d, f"{op.where}/x-videogen"
        if op.role == "create":
            assert op.inputs is not None
            model = op.inputs.source_of("model")
            if model is None and "model" not in d.defaults:
                raise self.fail(f"{where}/inputs", "say where 'model' comes from: an input named model, or x-videogen defaults.model")
            known = set(d.context.fields["input"].fields) | {"model"} if isinstance(d.context.fields["input"], Fields) else set()
            unknown = set(op.inherit) - known
            if unknown:
                raise self.fail(f"{where}/inherit", f"only inputs can be inherited; {sorted(unknown)} are no inputs of this dialect")
            if op.inherit and op.source is None:
                raise self.fail(f"{where}/inherit", "inherits from nothing: name the existing operation with 'source'")
        if op.role == "list":
            polls = {p.operation_id for p in d.by_role("poll")}
            if op.item_operation not in polls:
                raise self.fail(
                    f"{where}/item", f"{op.item_operation!r} is not the operationId of a poll (polls: {', '.join(sorted(polls))})"
                )
            assert op.page is not None
            needed = {"cursor": "after", "offset": "offset", "page": "page"}[op.page.style]
            if getattr(op.page, needed) is None:
                raise self.fail(f"{where}/page", f"a {op.page.style} page needs '{needed}': where the request says it")
        if op.role == "download" and op.variant_source is not None and len(op.variants) < 2:
            raise self.fail(f"{where}/variants", "a download with a variant parameter declares its variants and their media types")

    def kinds(self) -> None:
        """Every error kind a role or the lifecycle names is declared in /x-videogen/errors/kinds."""
        d = self.d
        named = [("/x-videogen/lifecycle/expired", d.lifecycle.expired)]
        for op in d.operations:
            for group, effect in op.effects.items():
                if effect.startswith("error:"):
                    named.append((f"{op.where}/x-videogen/effects/{group}", effect.removeprefix("error:")))
        for where, kind in named:
            if kind not in d.error_kinds:
                raise self.fail(where, f"error kind {kind!r} is not declared in /x-videogen/errors/kinds")
        cancels = [op for op in d.operations if "cancel" in op.effects.values()]
        if cancels and "cancelled" not in d.states:
            raise self.fail(f"{cancels[0].where}/x-videogen/effects", "cancels operations, but a poll has no 'cancelled' response")

    def events(self) -> None:
        d = self.d
        for event in d.events:
            missing = set(event.on) - set(d.states)
            if missing:
                raise self.fail(f"{event.where}/states", f"{sorted(missing)} are states this dialect's polls never show")
            validator = jsonschema_rs.validator_for(event.schema) if event.schema else None
            for state in event.on:
                ctx = {
                    **sample_context(d, state),
                    "event": {"id": "msg_sample", "name": event.name, "created_s": 0, "created_ms": 0, "created_iso": ""},
                }
                try:
                    body = event.body.render(ctx)
                except TemplateError as exc:
                    raise self.fail(f"{event.where}/body", f"does not render in state {state!r}: {exc}") from None
                if validator is not None and not validator.is_valid(body):
                    why = next(iter(validator.iter_errors(body))).message
                    raise self.fail(f"{event.where}/body", f"renders a body its documented schema refuses in state {state!r}: {why}")
        if d.events and d.webhook_config.signing == "standard-webhooks" and not d.webhook_config.secret:
            raise self.fail(
                "/x-videogen/webhooks/secret", "a signed dialect needs a default secret (the mock's; --webhook-secret overrides it)"
            )

    def aliases(self, op: Operation) -> None:
        declared = {p["name"] for p in op.parameters if p["in"] in ("path", "query")}
        for i, pattern in enumerate(op.aliases):
            unknown = set(pattern.groupindex) - declared
            if unknown:
                raise self.fail(
                    f"{op.where}/x-videogen/aliases/{i}/match",
                    f"named groups {sorted(unknown)} are not path or query parameters of {op.path}",
                )

    # -- what a client reads, against what the document publishes ---------------------

    def pointer(self, schema: Any, pointer: Any, where: str, what: str) -> dict[str, Any]:
        found = schema_at(schema, pointer.steps)
        if found is None:
            raise self.fail(where, f"{what} documents nothing at {pointer.text or '/'}")
        return found

    def read_pointers(self) -> None:
        d, read = self.d, self.d.read
        create = d.create
        self.pointer(_json_schema(create, create.status), read.handle, "/x-videogen/read/handle", f"the answer of {create.operation_id}")
        for op in d.by_role("poll"):
            schema, what = _json_schema(op), f"the answer of {op.operation_id}"
            if read.echo is not None:
                self.pointer(schema, read.echo, "/x-videogen/read/echo", what)
            self.pointer(schema, read.error, "/x-videogen/read/error", what)
            if read.results is None:
                continue
            results = self.pointer(schema, read.results, "/x-videogen/read/results", what)
            item = results.get("items", results) if results.get("type") == "array" or "items" in results else results
            for key, ptr in (("url", read.result_url), ("base64", read.result_base64)):
                if ptr is not None:
                    self.pointer(item, ptr, f"/x-videogen/read/result/{key}", f"a result in {what}")

    # -- the lifecycle, read back -----------------------------------------------------

    def render(self, template: Template, state: str, where: str) -> Any:
        try:
            return template.render(sample_context(self.d, state))
        except TemplateError as exc:
            raise self.fail(where, f"does not render in state {state!r}: {exc}") from None

    def lifecycle(self) -> None:
        d, read = self.d, self.d.read
        create = d.create
        assert create.response is not None
        answer = self.render(create.response, "queued", f"{create.where}/x-videogen/response")
        handle = read.handle.get(answer)
        if not isinstance(handle, str) or not handle:
            raise self.fail(
                "/x-videogen/read/handle",
                f"the create answer ({create.where}/x-videogen/response) holds no handle at {read.handle.text or '/'}: {answer!r}"[:400],
            )
        polled = poll_request(read, handle, **{k: str(v) for k, v in sample_identity(d).items()})
        routed = d.router.match(polled.method, polled.path.partition("?")[0])
        if routed.target is None or routed.target.role != "poll":
            raise self.fail("/x-videogen/read/poll", f"{polled.method} {polled.path} does not reach an operation with role 'poll'")
        if read.result_route is not None:
            path = fill(read.result_route, {"handle": handle})
            routed = d.router.match("GET", path)
            if routed.target is None or routed.target.role != "download" or routed.target.id_source is None:
                raise self.fail("/x-videogen/read/result/route", f"GET {path} does not reach a download that takes the operation's id")
        for op in d.by_role("poll"):
            for state in STATES:
                template = op.state_responses.get(state)
                if template is None:
                    continue
                where = f"{op.where}/x-videogen/responses/{state}"
                self.state(op, state, self.render(template, state, where), where, handle)

    def state(self, op: Operation, state: str, body: Any, where: str, handle: str) -> None:
        read = self.d.read
        rule = matching_rule(read, body)
        # A document with a rule for exactly this state promises clients can tell it apart.
        exact = any(r.state == state for r in read.states)
        named = ", ".join(r.where for r in read.states if (r.state == state if exact else reads_as(state, r.state))) or "none"
        if rule is None:
            raise self.fail(
                where,
                f"renders a body that no rule of /x-videogen/read/states recognises (the rules for {state!r}: {named}): {body!r}"[:500],
            )
        if not (rule.state == state if exact else reads_as(state, rule.state)):
            raise self.fail(
                where, f"renders a body that {rule.where} reads as {rule.state!r}, not {state!r} (the rules for {state!r}: {named})"
            )
        if read.echo is not None and read.echo.get(body) != handle:
            raise self.fail("/x-videogen/read/echo", f"the poll answer ({where}) does not echo the handle at {read.echo.text}")
        if rule.state == "succeeded":
            refs = results_of(read, body, handle=handle)
            if not refs:
                at = read.results.text if read.results is not None else "/"
                raise self.fail("/x-videogen/read/results", f"a success ({where}) holds no results at {at or '/'}")
            if any(ref.url is None and ref.base64 is None for ref in refs):
                raise self.fail("/x-videogen/read/result", f"a result in {where} has neither a URL nor bytes where read.result says")
        if rule.state == "failed" and state == "failed" and not well_formed_error(read.error.get(body)):
            raise self.fail("/x-videogen/read/error", f"a failure ({where}) holds no error with a message at {read.error.text or '/'}")
