"""Every bundled dialect through its whole flow, in-process, driven by the dialect model alone."""

from __future__ import annotations

import pytest

from mockserver.media import probe_mp4
from mockserver.testing import MockVideoAPI
from tests import flow
from tests.conftest import DIALECTS
from videogen.dialect import Dialect
from videogen.reading import poll_request, result_route, results_of
from videogen.states import ORDER


def run_to_end(mock: MockVideoAPI, f: flow.Flow, *, step: float = 0.5, limit: float = 120) -> str:
    waited = 0.0
    while waited <= limit:
        r = flow.poll(mock.client, f)
        assert r.status_code == 200, r.text
        if f.states[-1] in ("succeeded", "failed", "filtered"):
            return f.states[-1]
        mock.advance(step)
        waited += step
    return f.states[-1]


def test_success_flow_moves_forward_and_downloads_mp4(mock: MockVideoAPI, dialect: Dialect) -> None:
    f = flow.start(mock.client, dialect)
    assert run_to_end(mock, f) == "succeeded"
    ranks = [ORDER[s] for s in f.states]
    assert ranks == sorted(ranks), f.states
    assert f.states[0] in ("pending", "queued"), "a fresh operation starts queued"
    assert len(f.states) >= 3, f"a 0.5 s poll interval sees the operation before it ends: {f.states}"
    if any(rule.state == "running" for rule in dialect.read.states):
        assert "running" in f.states, f.states
    videos = flow.download(mock.client, f, f.bodies[-1])
    record = mock.records(dialect.name)[0]
    assert len(videos) == record.inputs["count"]
    for data in videos:
        info = probe_mp4(data)
        assert (info.width, info.height) == (record.inputs["width"], record.inputs["height"])
        assert abs(info.duration_s - record.inputs["duration_s"]) < 0.1


def test_a_finished_operation_answers_the_same_on_every_poll(mock: MockVideoAPI, dialect: Dialect) -> None:
    f = flow.start(mock.client, dialect)
    run_to_end(mock, f)
    first = f.bodies[-1]
    mock.advance(3600)
    flow.poll(mock.client, f)
    assert f.bodies[-1] == first


@pytest.mark.parametrize(("directive", "expected"), [("fail", "failed"), ("filtered", "filtered")])
def test_prompt_directive_picks_the_outcome(mock: MockVideoAPI, dialect: Dialect, directive: str, expected: str) -> None:
    f = flow.start(mock.client, dialect, prompt_suffix=f" [mock:{directive}]")
    final = run_to_end(mock, f)
    reported = {"filtered": {"filtered"}, "failed": {"failed"}}[expected]
    if not any(rule.state == "filtered" for rule in dialect.read.states):
        reported = {"failed"}  # this dialect reports a safety block as a plain failure
    assert final in reported
    error = dialect.read.error.get(f.bodies[-1])
    if final == "failed":
        assert error, f"a failed operation must carry an error: {f.bodies[-1]}"
    else:
        assert dialect.read.results is None or results_of(dialect.read, f.bodies[-1]) in ([], None) or dialect.read.results.text == ""


def test_scenario_header_picks_the_outcome(mock: MockVideoAPI, dialect: Dialect) -> None:
    f = flow.start(mock.client, dialect, headers={"X-Mock-Scenario": "fail"})
    assert run_to_end(mock, f) == "failed"


def test_never_finishing_operation_stays_running(mock: MockVideoAPI, dialect: Dialect) -> None:
    f = flow.start(mock.client, dialect, prompt_suffix=" [mock:never]")
    mock.advance(24 * 3600)
    flow.poll(mock.client, f)
    assert f.states[-1] in ("pending", "running")


def test_unknown_scenario_is_a_vendor_shaped_400(mock: MockVideoAPI, dialect: Dialect) -> None:
    from videogen.reading import create_request

    req = create_request(dialect, prompt_suffix=" [mock:explode]")
    r = mock.client.request(req.method, f"/{dialect.name}{req.path}", json=req.json, headers=flow.auth(dialect, "k"))
    assert r.status_code == dialect.error_kind("invalid_request").code
    assert "explode" in r.text and "fail" in r.text


def test_another_key_cannot_see_the_operation(mock: MockVideoAPI, dialect: Dialect) -> None:
    f = flow.start(mock.client, dialect, key="owner")
    r = flow.poll(mock.client, f, key="intruder")
    assert flow.unknown_answer(dialect, r), r.text
    unknown = flow.Flow(dialect, f.handle.replace(mock.records()[0].token, "zzzzzzzzzzzz"), f.model, None)
    r2 = flow.poll(mock.client, unknown, key="owner")
    assert r2.status_code == r.status_code
    assert r.json().keys() == r2.json().keys(), "another key's operation looks exactly like an unknown one"


def test_missing_key_gets_the_documented_error(mock: MockVideoAPI, dialect: Dialect) -> None:
    from videogen.reading import create_request

    req = create_request(dialect)
    r = mock.client.request(req.method, f"/{dialect.name}{req.path}", json=req.json)
    assert r.status_code == dialect.error_kind("missing_key").code
    assert str(r.status_code) in dialect.create.responses
    r = mock.client.request(
        req.method, f"/{dialect.name}{req.path}", json=req.json, headers={"Authorization": "Basic abc", "x-goog-api-key": ""}
    )
    assert r.status_code == dialect.error_kind("missing_key").code


def test_restricted_keys_refuse_others(dialect: Dialect) -> None:
    from videogen.reading import create_request

    with MockVideoAPI(api_keys=frozenset({"good"})) as mock:
        req = create_request(dialect)
        bad = mock.client.request(req.method, f"/{dialect.name}{req.path}", json=req.json, headers=flow.auth(dialect, "bad"))
        assert bad.status_code == dialect.error_kind("invalid_key").code
        good = mock.client.request(req.method, f"/{dialect.name}{req.path}", json=req.json, headers=flow.auth(dialect, "good"))
        assert good.status_code == dialect.create.status


def test_every_violation_is_listed(mock: MockVideoAPI, dialect: Dialect) -> None:
    from videogen.reading import create_request

    req = create_request(dialect)
    r = mock.client.request(
        req.method, f"/{dialect.name}{req.path}", json={"unexpected": True, "instances": 5}, headers=flow.auth(dialect, "k")
    )
    assert r.status_code == dialect.error_kind("invalid_request").code
    message = r.text
    required = dialect.create.body_schema or {}
    for name in required.get("required", []):
        if name != "instances":
            assert name in message, f"{name!r} is missing and must be named: {message}"


def test_malformed_json_and_wrong_content_type(mock: MockVideoAPI, dialect: Dialect) -> None:
    from videogen.reading import create_request

    req = create_request(dialect)
    url = f"/{dialect.name}{req.path}"
    headers = flow.auth(dialect, "k")
    for content, ctype in ((b"{not json", "application/json"), (b"a=b", "application/x-www-form-urlencoded"), (b"", "application/json")):
        r = mock.client.request(req.method, url, content=content, headers={**headers, "content-type": ctype})
        assert r.status_code == dialect.error_kind("invalid_request").code, (content, r.text)


DOWNLOADABLE = sorted(name for name, d in DIALECTS.items() if d.by_role("download"))


@pytest.mark.parametrize("name", DOWNLOADABLE)
def test_downloads_honour_range(mock: MockVideoAPI, name: str) -> None:
    dialect = DIALECTS[name]
    f = flow.start(mock.client, dialect)
    run_to_end(mock, f)
    ref = results_of(dialect.read, f.bodies[-1], handle=f.handle, base_url=f"http://testserver/{name}")
    assert ref and ref[0].url, f.bodies[-1]
    from urllib.parse import urlsplit

    parts = urlsplit(ref[0].url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = flow.auth(dialect, "key-1")
    whole = mock.client.get(target, headers=headers).content
    part = mock.client.get(target, headers={**headers, "Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == whole[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(whole)}"
    tail = mock.client.get(target, headers={**headers, "Range": "bytes=-8"})
    assert tail.content == whole[-8:]
    beyond = mock.client.get(target, headers={**headers, "Range": f"bytes={len(whole) + 5}-"})
    assert beyond.status_code == dialect.error_kind("range_not_satisfiable").code


@pytest.mark.parametrize("name", DOWNLOADABLE)
def test_download_before_success_is_not_found(mock: MockVideoAPI, name: str) -> None:
    dialect = DIALECTS[name]
    f = flow.start(mock.client, dialect)
    token = mock.records()[0].token
    file_id = dialect.file_template.render({"token": token, "index": 0})
    ctx = {"base_url": f"/{dialect.name}", "file": file_id, "token": token, "index": 0, "id": f.handle, "name": f.handle}
    url = dialect.result_url.render(ctx) if dialect.result_url is not None else result_route(dialect.read, f.handle, f"/{name}")
    assert url is not None
    r = mock.client.get(url, headers=flow.auth(dialect, "key-1"))
    assert r.status_code == dialect.error_kind("not_found").code


def test_a_repeated_poll_follows_progress_a_forced_state_and_the_host(mock: MockVideoAPI) -> None:
    """Poll answers are cached per (operation, snapshot, base URL): the cache must never hide
    a change of progress, a state forced through the control API, or the host asked."""
    dialect = DIALECTS["tokenops"]  # its running answer reports progressPercent
    f = flow.start(mock.client, dialect)
    (record,) = mock.records("tokenops")
    mock.advance(record.queued_s + record.running_s * 0.25)
    first, again = flow.poll(mock.client, f).json(), flow.poll(mock.client, f).json()
    assert first == again
    mock.advance(record.running_s * 0.5)
    later = flow.poll(mock.client, f).json()
    assert not {"succeeded", "failed", "filtered"} & set(f.states)  # tokenops tells queued from running only by progress
    assert later["metadata"]["progressPercent"] > first["metadata"]["progressPercent"]

    assert mock.client.post(f"/_mock/operations/{record.token}/state", json={"state": "succeeded"}).status_code == 200
    assert flow.poll(mock.client, f).status_code == 200 and f.states[-1] == "succeeded"

    def result_urls(host: str) -> list[str]:
        req = poll_request(dialect.read, f.handle, model=f.model)
        r = mock.client.request(req.method, f"/tokenops{req.path}", json=req.json, headers={**flow.auth(dialect, "key-1"), "host": host})
        return [ref.url or "" for ref in results_of(dialect.read, r.json()) or []]

    here, there = result_urls("mock-a.test"), result_urls("mock-b.test:9000")
    assert here and all(u.startswith("http://mock-a.test/tokenops/") for u in here)
    assert there and all(u.startswith("http://mock-b.test:9000/tokenops/") for u in there)
