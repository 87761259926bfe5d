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

import yaml

from videogen.checking import check_dialect
from videogen.context import OPERATION, Fields, leaves, with_fields
from videogen.credentials import slots_for
from videogen.dialect import (
    METHODS,
    YAML_LOADER,
    Dialect,
    ErrorKind,
    IdentityTemplate,
    Lifecycle,
    Operation,
    ReadModel,
    ResponseSpec,
    StateRule,
)
from videogen.errors import SpecError, TemplateError
from videogen.extension import check_extensions
from videogen.inputs import DERIVED, Source, compile_inputs
from videogen.paths import PathTemplate, Router
from videogen.pointer import Pointer
from videogen.refs import resolve_refs
from videogen.states import STATES
from videogen.template import Template, compile_template

__all__ = ["build", "escape"]

_IDENTITY_NAMES = frozenset({"id", "token", "model", "created_s"})


def escape(step: str) -> str:
    """One JSON-pointer step (RFC 6901)."""
    return step.replace("~", "~0").replace("/", "~1")


def read_document(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SpecError(source, "", f"cannot read YAML: {exc}") from None
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3.1"):
        raise SpecError(source, "/openapi", "expected an OpenAPI 3.1 document")
    return document


def build(path: Path) -> Dialect:
    """Load, check and compile one dialect document; raises :class:`SpecError`."""
    document = read_document(path)
    check_extensions(document, str(path))
    resolved = resolve_refs(document, str(path))
    dialect = _Builder(path, document, resolved).build()
    check_dialect(dialect)
    return dialect


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
                name, int(k["code"]), str(k.get("reason", "")), {a: str(b) for a, b in k.items() if a not in ("code", "reason")}
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
        failed = x.get("outcomes", {}).get("failed", {})
        filtered = x.get("outcomes", {}).get("filtered", {})
        reasons = list(filtered.get("reasons", ["The request was blocked by the safety filter."]))
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
            file_template=IdentityTemplate(ident["file"], self.source, "/x-videogen/identity/file"),
            result_url=self.template(x["result_url"], "/x-videogen/result_url") if "result_url" in x else None,
            lifecycle=Lifecycle(
                float(lc["queued_s"]),
                float(lc["running_s"]),
                {m: {k: float(v) for k, v in o.items()} for m, o in lc.get("models", {}).items()},
            ),
            defaults=defaults,
            outcomes=dict(x.get("outcomes", {})),
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
        )

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
                media = body.get("content", {})
                schema = media.get("application/json", {}).get("schema") if media else None
                security = tuple(name for req in raw.get("security", top_security) for name in req)
                for name in security:
                    if name not in self.schemes:
                        raise SpecError(
                            self.source, f"{where}/security", f"security scheme {name!r} is not defined in /components/securitySchemes"
                        )
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
                    route=PathTemplate(path),
                    role=None,
                    parameters=tuple(params.values()),
                    body_schema=schema,
                    body_required=bool(body.get("required", False)),
                    security=security,
                    credentials=slots_for(security, self.schemes),
                    responses=responses,
                    where=where,
                )
                ext = self.document["paths"][path][method].get("x-videogen")
                out.append(self.with_role(op, ext) if ext else op)
        return out

    def sources(self, mapping: dict[str, str], where: str) -> dict[str, Source]:
        return {k: Source.parse(v, self.source, f"{where}/{k}") for k, v in mapping.items()}

    def aliases(self, raw: list[dict[str, str]], where: str) -> tuple[re.Pattern[str], ...]:
        out = []
        for i, alias in enumerate(raw):
            try:
                out.append(re.compile(alias["match"]))
            except re.error as exc:
                raise SpecError(self.source, f"{where}/{i}/match", f"not a regular expression: {exc}") from None
        return tuple(out)

    def with_role(self, op: Operation, ext: dict[str, Any]) -> Operation:
        role = ext["role"]
        where = f"{op.where}/x-videogen"
        common: dict[str, Any] = {
            "vars": self.sources(ext.get("vars", {}), f"{where}/vars"),
            "aliases": self.aliases(ext.get("aliases", []), f"{where}/aliases"),
        }
        if role == "create":
            return replace(
                op,
                role="create",
                inputs=compile_inputs(ext["inputs"], self.source, f"{where}/inputs"),
                create_response=self.template(ext["response"], f"{where}/response"),
                create_status=int(ext.get("status", 200)),
                **common,
            )
        if role == "poll":
            responses = {state: self.template(body, f"{where}/responses/{state}") for state, body in ext["responses"].items()}
            return replace(
                op, role="poll", id_source=Source.parse(ext["id"], self.source, f"{where}/id"), state_responses=responses, **common
            )
        return replace(op, role="download", file_source=Source.parse(ext["file"], self.source, f"{where}/file"), **common)

    def read_model(self) -> ReadModel:
        r = self.x["read"]
        where = "/x-videogen/read"

        def ptr(text: str, at: str) -> Pointer:
            try:
                return Pointer.parse(text)
            except ValueError as exc:
                raise SpecError(self.source, f"{where}/{at}", str(exc)) from None

        rules = tuple(
            StateRule(
                rule["state"],
                tuple((ptr(k, f"states/{i}/when/{escape(k)}"), v) for k, v in rule["when"].items()),
                f"{where}/states/{i}",
            )
            for i, rule in enumerate(r["states"])
        )
        result = r["result"]
        poll = r["poll"]
        example, example_op = self.find_example(r["example"]) if "example" in r else (None, None)
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
            example_operation=example_op,
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
