"""The kit's own reading of a dialect: invalid and edge inputs, expectations, unknown ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.config import RunConfig, resolve_spec
from conformance.expectations import expectation
from conformance.identity import unknown_handle
from conformance.media import NotPlayable, probe
from conformance.mutations import mutations
from conformance.sample import COST_INPUTS, edge_sample
from conformance.wire import WireValidator
from mockserver.media import render_mp4
from tests.conformance.conftest import DIALECTS
from videogen.dialect import bundled_specs_dir
from videogen.errors import ConfigError
from videogen.reading import create_request


def test_every_mutation_breaks_the_contract_and_the_example_does_not(dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    op = dialect.create
    request = create_request(dialect)
    wire = WireValidator(op)
    headers = {**dict(op.headers), "content-type": "application/json"}
    assert wire.violations(request.path_params, {}, headers, json.dumps(request.json).encode()) == []
    found = mutations(op.body_schema, request.json)
    assert {m.kind for m in found} >= {"malformed", "missing", "type", "range", "shape"}
    for m in found:
        assert wire.violations(request.path_params, {}, headers, m.body), m.label


def test_the_edge_sample_is_valid_and_keeps_the_price(dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    op = dialect.create
    sample = edge_sample(dialect, op)
    assert op.inputs is not None
    if sample is None:  # only when every bounded field of the body drives the price
        priced = {inp.source.pointer.text for inp in op.inputs.inputs if set(inp.produces) & COST_INPUTS and inp.source.pointer}
        properties = (op.body_schema or {}).get("properties", {})
        bounded = [n for n, s in properties.items() if {"enum", "maximum"} & set(s) or s.get("type") == "boolean"]
        assert {f"/{n}" for n in bounded} <= priced, bounded
        return
    assert sample != dialect.read.example
    assert WireValidator(op).violations(create_request(dialect).path_params, {}, dict(op.headers), json.dumps(sample).encode()) == []
    for inp in op.inputs.inputs:
        if set(inp.produces) & {"count", "duration_s", "resolution"} and inp.source.pointer is not None:
            assert inp.source.pointer.get(sample) == inp.source.pointer.get(dialect.read.example), inp.name


def test_the_wire_validator_reads_parameters_as_the_server_does() -> None:
    dialect = DIALECTS["veo-relay"]
    poll = dialect.by_role("poll")[0]
    wire = WireValidator(poll)
    assert wire.violations({}, {"id": "abc"}, {}, None) == []
    assert wire.violations({}, {}, {}, None) == ["query parameter 'id' is required"]
    assert wire.violations({}, {"id": ""}, {}, None)
    gemini = WireValidator(DIALECTS["gemini"].create)
    assert gemini.violations({"model": "a/b"}, {}, {}, b'{"instances": [{"prompt": "x"}]}') == [
        "path parameter 'model' contains '/', so the path matches no route"
    ]
    assert gemini.violations({"model": "m"}, {}, {}, b'{"instances": [{"prompt": NaN}]}')


@pytest.mark.parametrize(
    ("body", "size", "duration"),
    [
        ({"instances": [{"prompt": "p"}], "parameters": {"aspectRatio": "16:9", "durationSeconds": 4}}, (1280, 720), 4.0),
        ({"instances": [{"prompt": "p"}], "parameters": {"aspectRatio": "9:16", "resolution": "1080p"}}, (1080, 1920), 8.0),
        ({"instances": [{"prompt": "p"}]}, (1280, 720), 8.0),
    ],
)
def test_expectations_come_from_the_request_then_the_dialect_defaults(body: object, size: tuple[int, int], duration: float) -> None:
    dialect = DIALECTS["gemini"]
    expect = expectation(dialect, dialect.create, body, {"model": "veo"})
    assert (expect.size, expect.duration_s, expect.count) == (size, duration, 1)


def test_explicit_width_and_height_win() -> None:
    dialect = DIALECTS["xiexus"]
    expect = expectation(dialect, dialect.create, {"model": "m", "prompt": "p", "width": 640, "height": 480, "duration": 2.5}, {})
    assert (expect.size, expect.duration_s) == ((640, 480), 2.5)


def test_an_unknown_handle_has_the_same_shape_and_another_token(dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    made_up = unknown_handle(dialect, None, model="veo-x", now_s=1_700_000_000)
    fields = dialect.name_template.parse(made_up) or {"id": made_up}
    assert dialect.id_template.parse(fields["id"]) is not None
    twin = unknown_handle(dialect, made_up, model="veo-x", now_s=0)
    assert twin != made_up and len(twin) == len(made_up)
    assert dialect.id_template.parse((dialect.name_template.parse(twin) or {"id": twin})["id"]) is not None


def test_a_real_demuxer_opens_the_mocks_video_and_refuses_anything_else() -> None:
    info = probe(render_mp4(320, 240, 2.0, fps=24))
    assert (info.codec, info.width, info.height, info.duration_s, info.frames) == ("h264", 320, 240, 2.0, 48)
    for junk in (b"", b"<html>502</html>", render_mp4(64, 64, 1.0)[:200]):
        with pytest.raises(NotPlayable):
            probe(junk)


def test_specs_resolve_by_name_or_path_and_unknown_names_list_the_choices(tmp_path: Path) -> None:
    assert resolve_spec("xiexus").name == "xiexus"
    assert resolve_spec(bundled_specs_dir() / "gemini.yaml").name == "gemini"
    with pytest.raises(ConfigError, match="expected one of: " + ", ".join(sorted(DIALECTS))):
        resolve_spec("acme")
    with pytest.raises(ConfigError, match="no such file"):
        resolve_spec(str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"base_url": "localhost:8000"}, "must look like 'http://host:port/dialect-root'"),
        ({"api_key": " "}, "--api-key must not be empty"),
        ({"other_api_key": "k"}, "second, different"),
        ({"max_creates": -1}, "0 or more"),
        ({"timeout": 0}, "--timeout"),
        ({"rate_limit": -2}, "--rate-limit"),
    ],
)
def test_bad_options_are_refused_before_any_request(change: dict[str, object], message: str) -> None:
    options: dict[str, object] = {"spec": "gemini", "base_url": "http://127.0.0.1:1/gemini", "api_key": "k", **change}
    with pytest.raises(ConfigError, match=message):
        RunConfig(**options)  # type: ignore[arg-type]
