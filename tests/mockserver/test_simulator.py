"""The simulator's contexts have exactly the shape the loader checks templates against."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.testing import MockVideoAPI
from tests import flow
from videogen.context import OPERATION, Fields, Items, Shape
from videogen.dialect import Dialect
from videogen.reading import create_request
from videogen.samples import sample_context
from videogen.states import STATES


def keys(shape: Shape, value: Any, at: str = "") -> set[str]:
    """The dotted names of ``value`` that ``shape`` describes (open fields: whatever is there)."""
    out: set[str] = set()
    if isinstance(shape, Fields) and isinstance(value, dict):
        names = shape.fields if shape.fields else {k: None for k in value}
        for name, sub in names.items():
            out.add(f"{at}{name}")
            if sub is not None and name in value:
                out |= keys(sub, value[name], f"{at}{name}.")
    elif isinstance(shape, Items) and isinstance(value, list) and value:
        out |= keys(shape.item, value[0], f"{at}*.")
    return out


def materialised(ctx: dict[str, Any]) -> dict[str, Any]:
    out = {name: ctx[name] for name in OPERATION.fields}  # reads every lazy field
    out["videos"] = [{k: v[k] for k in ("b64", "data_uri")} | dict(v) for v in out["videos"]]
    return out


@pytest.mark.parametrize("state", [s for s in STATES if s != "cancelled"])
def test_the_simulators_context_is_the_shape_the_loader_checks_against(mock: MockVideoAPI, dialect: Dialect, state: str) -> None:
    f = flow.start(mock.client, dialect)
    (record,) = mock.records(dialect.name)
    if state != "queued":
        r = mock.client.post(f"/_mock/operations/{record.token}/state", json={"state": state})
        assert r.status_code == 200, r.text
        (record,) = mock.records(dialect.name)
    sim = mock.runtime.simulators[dialect.name]
    real = materialised(sim.context(record, sim.snapshot(record, mock.clock.now()), "http://testserver/x"))
    sample = sample_context(dialect, state)
    shape = dialect.context
    real_keys = {k for k in keys(shape, real) if not k.startswith("videos.*._")}
    assert real_keys == keys(shape, sample), f"{dialect.name} in {state}: {real_keys ^ keys(shape, sample)}"
    declared = shape.fields["input"]
    assert isinstance(declared, Fields)
    missing = []
    for name in declared.fields:
        try:
            real["input"][name]  # an input the request left out reads as null
        except KeyError:
            missing.append(name)
    assert not missing, f"declared inputs a template may read but the context lacks: {missing}"
    assert f.handle


def test_a_create_whose_answer_cannot_render_stores_nothing(mock: MockVideoAPI, dialect: Dialect, monkeypatch: pytest.MonkeyPatch) -> None:
    sim = mock.runtime.simulators[dialect.name]

    def broken(*args: Any) -> Any:
        raise RuntimeError("a render that fails")

    monkeypatch.setattr(sim, "render", broken)
    req = create_request(dialect)
    r = mock.client.request(req.method, f"/{dialect.name}{req.path}", json=req.json, headers=flow.auth(dialect, "k"))
    assert r.status_code == dialect.error_kind("internal").code
    assert mock.records(dialect.name) == []
