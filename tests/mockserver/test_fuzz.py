"""Self-fuzzing: schemathesis against a real mock server, with the mock's own documents.

Every dialect's document (as served at ``/<dialect>/openapi.json``) and the control
API's (``/_mock/openapi.json``) are fuzzed operation by operation, in positive and
negative generation modes, then through schemathesis' stateful phase wherever it can
link operations. The bar: no 5xx, invalid input refused, and every answer conforms
to the document that describes it (status code, content type, headers, body schema).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, not_a_server_error
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mockserver.ranges import byte_range
from mockserver.testing import LiveMockServer
from tests import flow
from tests.conftest import DIALECTS
from videogen.reading import create_request, credentials, data_url_bytes, results_of

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40  # per operation and mode
KEY = "fuzz-key"
OTHER_KEY = "fuzz-key-2"
# Each request carries the key, a key the server refuses, or none: a secured operation
# must refuse the last two with one of its documented errors (401, 403, or tokenops' 400).
CREDENTIALS = ("key", "key", "wrong key", "no key")
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
DOCUMENTS = ["_mock", *sorted(DIALECTS)]
# positive_data_acceptance is left out on purpose: a schema-valid request may name an
# operation or dialect that does not exist, and some vendors answer that with 400
# (tokenops' not_found is a 400), which the documents say and the mock reproduces.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,  # the same requests on every run; a failure reproduces
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)


def serve() -> LiveMockServer:
    return LiveMockServer(DIALECTS.values(), seed=1, api_keys=frozenset({KEY, OTHER_KEY}))


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """One server for the dialects. The control API gets its own: the fault rules it is
    fuzzed into setting would turn later dialect requests into injected 5xx."""
    with serve() as s:
        yield s


def auth_for(document: str) -> dict[str, str]:
    """The key alone: schemathesis draws every other header (a required version header too, and in
    negative mode a wrong one), so a header added here would overwrite what it meant to send."""
    return credentials(DIALECTS[document].create, KEY)[0] if document in DIALECTS else {}


def mount(s: LiveMockServer, document: str) -> str:
    return f"{s.base_url}/{document}"


def load(s: LiveMockServer, document: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{mount(s, document)}/openapi.json")
    # The mock ignores query parameters it does not know, as the vendors do (OpenAPI cannot
    # say otherwise): an extra one is not negative data.
    schema.config.generation.update(allow_extra_parameters=False)
    if document in DIALECTS:
        assert schema.raw_schema["servers"] == [{"url": mount(s, document), "description": "videogen-mock"}]
    return schema


def secured(operation: Any) -> bool:
    requirements = operation.definition.raw.get("security", operation.schema.raw_schema.get("security", []))
    return bool(requirements) and all(requirements)  # an empty requirement ({}) makes the key optional


def fuzz(schema: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> int:
    """Fuzz every operation of ``schema`` and return how many requests were sent; the first
    failing check raises a FailureGroup with a curl reproduction."""
    sent: Counter[str] = Counter()
    dry: list[str] = []
    by_credential = {"key": headers, "wrong key": {k: v.replace(KEY, f"not-{KEY}") for k, v in headers.items()}, "no key": {}}
    for result in schema.get_all_operations():
        operation = result.ok()

        @SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode), credential=st.sampled_from(CREDENTIALS))
        def one(case: Any, credential: str) -> None:
            credential = credential if headers else "no key"  # the control API takes no key
            sent_headers = by_credential[credential]
            response = case.call(base_url=base_url, headers=sent_headers)
            sent[credential] += 1
            case.validate_response(response, checks=CHECKS, headers=sent_headers)
            if credential != "key" and secured(case.operation):
                assert response.status_code >= 400, f"{case.operation.label} answered {response.status_code} to a request with {credential}"

        try:
            one()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, or one
            # free-form string in the path): only the negative mode may run dry.
            assert mode is GenerationMode.NEGATIVE, f"no valid input for {operation.label}"
            dry.append(operation.label)
    title = schema.raw_schema["info"]["title"]
    print(f"[fuzz] {title} {mode.value}: {sent.total()} requests {dict(sent)}; nothing to negate in {dry or 'none'}")
    return sent.total()


@pytest.mark.parametrize("mode", MODES, ids=str)
@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_dialect_documents_hold_under_fuzzing(server: LiveMockServer, name: str, mode: GenerationMode) -> None:
    schema = load(server, name)
    assert fuzz(schema, mode, mount(server, name), auth_for(name)) >= MAX_EXAMPLES


@pytest.mark.parametrize("mode", MODES, ids=str)
def test_control_document_holds_under_fuzzing(mode: GenerationMode) -> None:
    with serve() as s:
        assert fuzz(load(s, "_mock"), mode, mount(s, "_mock"), {}) >= MAX_EXAMPLES


def test_stateful_phase_on_every_linkable_document() -> None:
    """Schemathesis infers links from response fields named like path parameters: the
    control API (``token``) and xiexus (``task_id``). The other dialects' create answers
    name the operation differently from the poll's path parameters (gemini's name holds
    slashes), so none can be linked without OpenAPI links; test_sequences covers them."""
    linked: list[str] = []
    unlinked: list[str] = []

    def baseline(client: httpx.Client) -> None:
        """The same server state before every scenario: what a scenario receives decides
        which rules it can draw next, so state left by the previous one (operations, fault
        rules the control API was fuzzed into setting) would make hypothesis's replays
        diverge from the first run (FlakyStrategyDefinition)."""
        client.delete("/_mock/faults").raise_for_status()
        client.post("/_mock/reset").raise_for_status()
        for name in DIALECTS:  # operations to list, poll and force through the control API
            flow.start(client, DIALECTS[name], KEY)

    with serve() as s, httpx.Client(base_url=s.base_url) as control:
        for document in DOCUMENTS:

            class Machine(load(s, document).as_state_machine()):  # type: ignore[misc]
                headers = auth_for(document)

                def setup(self) -> None:
                    baseline(control)

                def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                    return {"headers": self.headers}

                def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
                    case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)

            try:
                Machine.run(settings=settings(SETTINGS, max_examples=20, stateful_step_count=8))
            except NoLinksFound:
                unlinked.append(document)
            else:
                linked.append(document)
    print(f"[fuzz] stateful phase ran on {linked}; no links could be inferred for {unlinked}")
    assert {"_mock", "xiexus"} <= set(linked), linked


def test_the_checks_have_teeth(server: LiveMockServer) -> None:
    """A document that leaves out the 404 the mock really sends must fail the fuzzing."""
    schema = load(server, "gemini")
    document = copy.deepcopy(schema.raw_schema)
    poll = document["paths"]["/v1beta/models/{model}/operations/{operation_id}"]["get"]
    poll["responses"] = {"200": poll["responses"]["200"]}
    doctored = schemathesis.openapi.from_dict(document)
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        fuzz(doctored, GenerationMode.POSITIVE, mount(server, "gemini"), auth_for("gemini"))


SCENARIOS = ("", " [mock:fail]", " [mock:filtered]", " [mock:never]")


@pytest.mark.parametrize("name", sorted(DIALECTS))
def test_every_state_and_download_conforms(server: LiveMockServer, name: str) -> None:
    """Random requests rarely name a real operation, and the stateful phase links only two
    documents and never moves the clock: so every create operation, every state's poll
    (as the owner and as another key) and every download (whole, a range, an unsatisfiable
    range, another key, no key) is judged here by the same schemathesis checks."""
    dialect, schema, checked = DIALECTS[name], load(server, name), 0
    checks = [c for c in CHECKS if c is not negative_data_rejection]

    def judge(response: httpx.Response) -> None:
        nonlocal checked
        path = response.request.url.path.removeprefix(f"/{name}")
        operation = schema.find_operation_by_path(response.request.method, path)
        assert operation is not None, f"no documented operation for {response.request.method} {path}"
        operation.Case().validate_response(response, checks=checks)
        checked += 1

    with httpx.Client(base_url=server.base_url) as client:
        for create in dialect.by_role("create"):
            req = create_request(dialect, operation=create)
            judge(client.request(req.method, f"/{name}{req.path}", json=req.json, headers=flow.auth(dialect, KEY)))
        for suffix in SCENARIOS:
            f = flow.start(client, dialect, KEY, prompt_suffix=suffix)
            for seconds in (0, 1.5, 3, 600):
                server.advance(seconds)
                judge(flow.poll(client, f, KEY))
                judge(flow.poll(client, f, OTHER_KEY))
            refs = (
                (results_of(dialect.read, f.bodies[-1], handle=f.handle, base_url=server.url(name)) or [])
                if f.states[-1] == "succeeded"
                else []
            )
            for url in [ref.url for ref in refs if ref.url and data_url_bytes(ref.url) is None]:
                target = url.removeprefix(server.url(name))
                for extra in ({}, {"range": "bytes=0-99"}, {"range": "bytes=99999999-"}):
                    judge(client.get(f"/{name}{target}", headers={**flow.auth(dialect, KEY), **extra}))
                judge(client.get(f"/{name}{target}", headers=flow.auth(dialect, OTHER_KEY)))
                judge(client.get(f"/{name}{target}"))
    print(f"[fuzz] {name}: {checked} answers judged, in every state and from every download")
    assert checked >= len(SCENARIOS) * 4 * 2


# Regressions: what the fuzzing found.


def test_control_refuses_an_unknown_state_filter(server: LiveMockServer) -> None:
    r = httpx.get(f"{server.base_url}/_mock/operations", params={"state": ""})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/json"
    assert "unknown state ''" in r.json()["error"]["message"]


def test_control_refuses_a_limit_of_non_ascii_digits(server: LiveMockServer) -> None:
    r = httpx.get(f"{server.base_url}/_mock/operations", params={"limit": "\u00b2"})  # str.isdigit() says yes, int() says no
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/json"


@pytest.mark.parametrize("header", ["bytes=\u00b2-", "bytes=0-\u00b3", "bytes=-\u00b9"])
def test_a_range_of_non_ascii_digits_is_ignored(header: str) -> None:
    assert byte_range(header, 100) is None  # as for any range the server cannot read: the whole body


@pytest.mark.parametrize("method,path", [("GET", "/operations/X%0A"), ("POST", "/operations/X%0Ay/state")])
def test_control_answers_json_for_a_token_with_a_newline(server: LiveMockServer, method: str, path: str) -> None:
    r = httpx.request(method, f"{server.base_url}/_mock{path}", json={"state": "running"} if method == "POST" else None)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == 404
