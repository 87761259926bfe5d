"""Sample contexts: what the simulator would hand a template, built from the document alone.

The loader renders every template with these to prove, before serving, that the
answers read back as the states they stand for. They have the shape of
:data:`videogen.context.OPERATION` (a test holds them to the simulator's real
contexts), with values taken from the document's own example.
"""

from __future__ import annotations

from typing import Any

from videogen.context import Fields
from videogen.dialect import Dialect
from videogen.inputs import DERIVED, RequestView
from videogen.reading import create_request
from videogen.sizing import DEFAULT_SIZE, size_of

__all__ = ["SAMPLE_TOKEN", "sample_context", "sample_identity", "sample_inputs"]

SAMPLE_TOKEN = "s4mpl3t0k3n0"
SAMPLE_TIME = 1_767_225_600  # 2026-01-01T00:00:00Z
_ISO = "2026-01-01T00:00:00.000Z"
_DT = "2026-01-01 00:00:00.000"


def sample_inputs(dialect: Dialect) -> dict[str, Any]:
    """The inputs the document's example create asks for, with the dialect's defaults under them."""
    request = create_request(dialect)
    op = dialect.create
    read = op.inputs.read(RequestView(path=request.path_params, body=request.json)) if op.inputs is not None else {}
    shape = dialect.context.fields["input"]
    values: dict[str, Any] = dict.fromkeys(shape.fields if isinstance(shape, Fields) else (), None)
    values.update(dialect.defaults)
    values.update(read)
    width, height = size_of(values, dialect.sizes) or DEFAULT_SIZE
    values.update(width=width, height=height, fps=values.get("fps") or 24, seed=values.get("seed") or 42)
    values["count"] = int(values.get("count") or 1)
    values["duration_s"] = float(values.get("duration_s") or 8)
    assert set(DERIVED) <= set(values)
    return values


def sample_identity(dialect: Dialect) -> dict[str, Any]:
    """A sample operation's identity: its fields, ``id`` and ``name``."""
    model = sample_inputs(dialect).get("model") or "sample-model"
    shape = dialect.context.fields["vars"]
    fields: dict[str, Any] = {n: f"sample-{n}" for n in (shape.fields if isinstance(shape, Fields) else ())}
    fields.update(dialect.identity_defaults)
    fields.update(token=SAMPLE_TOKEN, model=str(model), created_s=SAMPLE_TIME)
    fields["id"] = dialect.id_template.render(fields)
    fields["name"] = dialect.name_template.render(fields)
    return fields


def _video(dialect: Dialect, ident: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    file = dialect.file_template.render({"token": SAMPLE_TOKEN, "index": 0})
    base_url = f"http://127.0.0.1:8000/{dialect.name}"
    url = (
        dialect.result_url.render({**ident, "vars": ident, "base_url": base_url, "file": file, "index": 0}) if dialect.result_url else None
    )
    duration = float(inputs["duration_s"])
    return {
        "index": 0,
        "file": file,
        "url": url,
        "width": inputs["width"],
        "height": inputs["height"],
        "duration_s": duration,
        "duration": int(duration) if duration == int(duration) else duration,
        "fps": inputs["fps"],
        "mime": "video/mp4",
        "b64": "AAAA",
        "gcs_uri": None,
        "data_uri": "data:video/mp4;base64,AAAA",
        "variants": {"thumbnail": url, "spritesheet": url},
    }


def sample_context(dialect: Dialect, state: str) -> dict[str, Any]:
    """The context of a sample operation in ``state``."""
    ident = sample_identity(dialect)
    inputs = sample_inputs(dialect)
    finished = state in ("succeeded", "failed", "filtered", "cancelled")
    times: dict[str, Any] = {}
    for stem in ("created", "updated", "started", "finished", "expires"):
        known = stem in ("created", "updated") or finished or (stem == "started" and state == "running")
        for unit, value in (("s", SAMPLE_TIME), ("ms", SAMPLE_TIME * 1000), ("iso", _ISO), ("dt", _DT)):
            times[f"{stem}_{unit}"] = value if known else None
    return {
        **{k: v for k, v in ident.items() if k in ("id", "name", "token", "model")},
        "vars": {k: v for k, v in ident.items() if k not in ("id", "name", "token", "model", "created_s")},
        "input": inputs,
        "state": state,
        "progress": 100 if finished else 50 if state == "running" else 0,
        "progress_fraction": 1.0 if finished else 0.5 if state == "running" else 0.0,
        "base_url": f"http://127.0.0.1:8000/{dialect.name}",
        "request_id": "sample-request-id",
        **times,
        "source": {"token": None, "id": None, "name": None},  # a create that refers to no other operation
        "videos": [_video(dialect, ident, inputs)] if state == "succeeded" else [],
        "error": dict(dialect.failure),
        "filter": {**dialect.filter, "count": inputs["count"]},
    }
