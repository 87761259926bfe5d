"""Self-fuzzing: schemathesis against a real mock server, with the mock's own documents.

Every dialect's document (as served at ``/<dialect>/openapi.json``) and the control
API's (``/_mock/openapi.json``) are fuzzed operation by operation, in positive and
negative generation modes, then through schemathesis' stateful phase wherever it can
link operations. The bar: no 5xx, invalid input refused, and every answer conforms
to the document that describes it (status code, content type, headers, body schema).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
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

from mockserver.testing import LiveMockServer
from tests import flow
from tests.conftest import DIALECTS

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 40  # per operation and mode
KEY = "fuzz-key"
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
    return LiveMockServer(DIALECTS.values(), seed=1)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveMockServer]:
    """One server for the dialects. The control API gets its own: the fault rules it is
    fuzzed into setting would turn later dialect requests into injected 5xx."""
    with serve() as s:
        yield s


def auth_for(document: str) -> dict[str, str]:
    return flow.auth(DIALECTS[document], KEY) if document in DIALECTS else {}


def mount(s: LiveMockServer, document: str) -> str:
    return f"{s.base_url}/{document}"


def load(s: LiveMockServer, document: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{mount(s, document)}/openapi.json")
    if document in DIALECTS:
        assert schema.raw_schema["servers"] == [{"url": mount(s, document), "description": "videogen-mock"}]
    return schema


def fuzz(schema: Any, mode: GenerationMode, base_url: str, headers: dict[str, str]) -> int:
    """Fuzz every operation of ``schema`` and return how many requests were sent; the first
    failing check raises a FailureGroup with a curl reproduction."""
    sent = 0
    dry: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def one(case: Any) -> None:
            nonlocal sent
            response = case.call(base_url=base_url, headers=headers)
            sent += 1
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            one()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, or one
            # free-form string in the path): only the negative mode may run dry.
            assert mode is GenerationMode.NEGATIVE, f"no valid input for {operation.label}"
            dry.append(operation.label)
    print(f"[fuzz] {schema.raw_schema['info']['title']} {mode.value}: {sent} requests; nothing to negate in {dry or 'none'}")
    return sent


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
    with serve() as s:
        with httpx.Client(base_url=s.base_url) as client:  # operations to list, poll and force through the control API
            for name in DIALECTS:
                flow.start(client, DIALECTS[name], KEY)
        for document in DOCUMENTS:

            class Machine(load(s, document).as_state_machine()):  # type: ignore[misc]
                headers = auth_for(document)

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


# Regressions: what the fuzzing found.


def test_control_refuses_an_unknown_state_filter(server: LiveMockServer) -> None:
    r = httpx.get(f"{server.base_url}/_mock/operations", params={"state": ""})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/json"
    assert "unknown state ''" in r.json()["error"]["message"]


@pytest.mark.parametrize("method,path", [("GET", "/operations/X%0A"), ("POST", "/operations/X%0Ay/state")])
def test_control_answers_json_for_a_token_with_a_newline(server: LiveMockServer, method: str, path: str) -> None:
    r = httpx.request(method, f"{server.base_url}/_mock{path}", json={"state": "running"} if method == "POST" else None)
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"]["code"] == 404
