"""Faults on demand: each kind, its scope, its seed, and every way to ask for it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockserver.cli import _config_from, build_parser
from mockserver.config import MockConfig
from mockserver.faults import FaultError, FaultInjector, FaultRule, load_profile, parse_compact
from mockserver.media import probe_mp4
from mockserver.signing import HOP
from mockserver.testing import LiveMockServer, MockVideoAPI

GEMINI_CREATE = "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning"
KEY = {"x-goog-api-key": "fault-key"}


# -- the rule language ----------------------------------------------------------------------


def test_compact_rules_parse_with_scope_rate_and_parameters() -> None:
    rules = parse_compact("error:status=503,rate=0.25,op=poll,dialect=gemini; latency:dist=uniform,min=10,max=20")
    assert rules[0] == FaultRule("error", dialect="gemini", op="poll", rate=0.25, params={"status": 503.0})
    assert rules[1].to_dict() == {"kind": "latency", "rate": 1.0, "dist": "uniform", "min": 10, "max": 20}
    assert FaultRule.from_dict(rules[1].to_dict()) == rules[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("explode", "explode"),
        ("error:status=418", "418"),
        ("error:rate=2", "rate"),
        ("latency", "latency needs ms=N"),
        ("error:status", "not key=value"),
        ("error:colour=red", "colour"),
        ("drop:op=upload", "upload"),
    ],
)
def test_bad_rules_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        parse_compact(text)


def test_a_profile_loads_and_a_bad_one_says_where(tmp_path: Path) -> None:
    good = tmp_path / "faults.yaml"
    good.write_text("seed: 9\nfaults:\n  - {kind: error, status: 503, rate: 0.1}\n  - {kind: quota, limit: 5, window: 60, op: create}\n")
    seed, rules = load_profile(good)
    assert seed == 9 and [r.kind for r in rules] == ["error", "quota"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - {kind: error, status: 999}\n")
    with pytest.raises(FaultError, match=r"bad\.yaml"):
        load_profile(bad)


def test_cli_flags_and_profiles_become_config(tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text("seed: 4\nfaults: [{kind: drop, rate: 0.5}]\n")
    args = build_parser().parse_args(["serve", "--faults", str(profile), "--fault", "error:status=503,op=poll"])
    config = _config_from(args)
    assert config["fault_seed"] == 4
    assert [r["kind"] for r in config["faults"]] == ["drop", "error"]
    with pytest.raises(FaultError, match="--fault"):
        _config_from(build_parser().parse_args(["serve", "--fault", "error:status=1"]))


def test_the_same_seed_draws_the_same_faults() -> None:
    rules = parse_compact("error:rate=0.5; latency:dist=exponential,mean=50,rate=0.5")

    def run(seed: int) -> list[tuple[int | None, float]]:
        injector = FaultInjector(rules, seed)
        return [(d.error_status, d.latency_s) for d in (injector.decide("gemini", "poll", None, owner="o", now=0) for _ in range(200))]

    assert run(1) == run(1)
    assert run(1) != run(2)
    errors = sum(1 for status, _ in run(3) if status)
    assert 70 <= errors <= 130, errors


def test_scope_limits_a_rule_to_its_dialect_role_and_model() -> None:
    injector = FaultInjector(parse_compact("error:dialect=xiexus,op=create,model=m1"), 0)
    assert injector.decide("xiexus", "create", "m1", owner="o", now=0).error_status == 500
    assert injector.decide("gemini", "create", "m1", owner="o", now=0).quiet
    assert injector.decide("xiexus", "poll", "m1", owner="o", now=0).quiet
    assert injector.decide("xiexus", "create", "m2", owner="o", now=0).quiet


# -- against the server -------------------------------------------------------------------------


@pytest.fixture
def live() -> Iterator[LiveMockServer]:
    with LiveMockServer(seed=1, fault_seed=1) as server:
        yield server


@pytest.fixture
def http(live: LiveMockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=10) as client:
        yield client


def create(http: httpx.Client, prompt: str = "a cat", headers: dict[str, str] | None = None) -> httpx.Response:
    return http.post(GEMINI_CREATE, json={"instances": [{"prompt": prompt}]}, headers={**KEY, **(headers or {})})


def finished(http: httpx.Client, live: LiveMockServer, name: str) -> dict[str, object]:
    live.advance(600)
    body: dict[str, object] = http.get(f"/gemini/v1beta/{name}", headers=KEY).json()
    return body


def set_faults(http: httpx.Client, *rules: dict[str, object], seed: int | None = None) -> None:
    r = http.put("/_mock/faults", json={"faults": list(rules), "seed": seed})
    assert r.status_code == 200, r.text


def test_errors_come_in_the_vendors_own_shape(http: httpx.Client) -> None:
    name = create(http).json()["name"]
    r = http.get(f"/gemini/v1beta/{name}", headers={**KEY, "X-Mock-Fault": "error:status=503"})
    assert r.status_code == 503 and r.json()["error"]["status"] == "UNAVAILABLE"
    r = http.get(f"/gemini/v1beta/{name}", headers={**KEY, "X-Mock-Fault": "error"})
    assert r.status_code == 500 and r.json()["error"] == {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}
    r = http.post(
        "/xiexus/v1/video/generations",
        json={"model": "m", "prompt": "x"},
        headers={"Authorization": "Bearer k", "X-Mock-Fault": "error:status=503"},
    )
    assert r.status_code == 503 and set(r.json()["error"]) >= {"message", "type"}


def test_a_bad_fault_header_is_the_vendors_400(http: httpx.Client) -> None:
    r = create(http, headers={"X-Mock-Fault": "meteor"})
    assert r.status_code == 400 and "meteor" in r.json()["error"]["message"]


def test_rate_limit_sends_retry_after(http: httpx.Client) -> None:
    r = create(http, headers={"X-Mock-Fault": "rate_limit:retry_after=3"})
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert r.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_quota_counts_creates_per_key_per_window(http: httpx.Client, live: LiveMockServer) -> None:
    set_faults(http, {"kind": "quota", "limit": 2, "window": 60})
    assert [create(http).status_code for _ in range(3)] == [200, 200, 429]
    assert create(http, headers={"x-goog-api-key": "another-key"}).status_code == 200
    name = http.post(GEMINI_CREATE, json={"instances": [{"prompt": "x"}]}, headers={"x-goog-api-key": "another-key"}).json()["name"]
    assert http.get(f"/gemini/v1beta/{name}", headers={"x-goog-api-key": "another-key"}).status_code == 200, "polls are not creates"
    refused = create(http)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    live.advance(61)
    assert create(http).status_code == 200


def test_latency_waits(http: httpx.Client) -> None:
    started = time.perf_counter()
    assert create(http, headers={"X-Mock-Fault": "latency:ms=150"}).status_code == 200
    assert time.perf_counter() - started >= 0.15


def test_a_dropped_connection_and_a_truncated_body_leave_the_server_up(http: httpx.Client, live: LiveMockServer) -> None:
    name = create(http).json()["name"]
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(f"/gemini/v1beta/{name}", headers={**KEY, "X-Mock-Fault": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(f"/gemini/v1beta/{name}", headers={**KEY, "X-Mock-Fault": "truncate:keep=0.3"})
    assert http.get(f"/gemini/v1beta/{name}", headers=KEY).json()["name"] == name


def test_slow_download_streams_every_byte(http: httpx.Client, live: LiveMockServer) -> None:
    body = finished(http, live, create(http).json()["name"])
    uri = body["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]  # type: ignore[index]
    started = time.perf_counter()
    r = http.get(uri, headers={**KEY, "X-Mock-Fault": "slow_download:bytes_per_s=40000"})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200 and probe_mp4(r.content).width == 1280
    assert elapsed >= len(r.content) / 40000 * 0.8


def test_fail_after_and_filtered_empty_change_the_plan(http: httpx.Client, live: LiveMockServer) -> None:
    name = create(http, headers={"X-Mock-Fault": "fail_after:after=3"}).json()["name"]
    live.advance(1 + 2)  # queued 1 s, then running
    assert http.get(f"/gemini/v1beta/{name}", headers=KEY).json().get("done") is not True
    body = finished(http, live, name)
    assert body["done"] is True and body["error"]["code"] == 13  # type: ignore[index]

    name = create(http, headers={"X-Mock-Fault": "filtered_empty"}).json()["name"]
    response = finished(http, live, name)["response"]["generateVideoResponse"]  # type: ignore[index]
    assert response["generatedSamples"] == [] and response["raiMediaFilteredCount"] >= 1


def test_a_redirected_download_serves_the_bytes_from_a_signed_url(http: httpx.Client, live: LiveMockServer) -> None:
    body = finished(http, live, create(http).json()["name"])
    uri = body["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]  # type: ignore[index]
    set_faults(http, {"kind": "download_redirect"})
    hop = http.get(uri, headers=KEY)
    assert hop.status_code == 302 and f"{HOP}=s" in hop.headers["location"]
    signed = httpx.get(hop.headers["location"], timeout=10)  # no key: the URL is its own authority
    assert signed.status_code == 200 and signed.content[4:8] == b"ftyp"
    forged = httpx.get(hop.headers["location"].replace(f"{HOP}=s", f"{HOP}=sdeadbeef"), timeout=10)
    assert forged.status_code == 404


def test_hand_computed_signatures_never_download_another_keys_video(http: httpx.Client, live: LiveMockServer) -> None:
    """The old scheme signed with an unkeyed sha256 of the file id: anyone could compute it."""
    import hashlib
    import time as wall

    body = finished(http, live, create(http).json()["name"])
    uri = body["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]  # type: ignore[index]
    file_id = uri.split("/files/", 1)[1].split(":", 1)[0]
    digest = hashlib.sha256(file_id.encode()).hexdigest()
    expires = int(wall.time()) + 10**6
    joiner = "&" if "?" in uri else "?"
    for value in (digest, f"s{expires}.{digest[:32]}", f"k{expires}.{digest[:32]}"):
        forged = f"{uri}{joiner}{HOP}={value}"
        assert httpx.get(forged, timeout=10).status_code != 200, value  # no key, no fault configured
        assert httpx.get(forged, headers={"x-goog-api-key": "someone-else"}, timeout=10).status_code != 200, value


def test_a_redirect_that_wants_the_key_again(http: httpx.Client, live: LiveMockServer) -> None:
    body = finished(http, live, create(http).json()["name"])
    uri = body["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]  # type: ignore[index]
    set_faults(http, {"kind": "redirect_needs_key", "op": "download"})
    hop = http.get(uri, headers=KEY)
    assert hop.status_code == 302
    location = hop.headers["location"]
    assert httpx.get(location, timeout=10).status_code == 403, "a client that drops the key on redirect fails"
    assert httpx.get(location, headers={"x-goog-api-key": "someone-else"}, timeout=10).status_code == 404
    assert http.get(uri, headers=KEY, follow_redirects=True).content[4:8] == b"ftyp"


def test_the_same_seed_repeats_the_same_fault_sequence_end_to_end() -> None:
    def statuses() -> list[int]:
        faults = tuple(parse_compact("error:rate=0.5,op=create"))
        with LiveMockServer(seed=2, fault_seed=5, faults=faults) as server, httpx.Client(base_url=server.base_url, timeout=10) as client:
            return [create(client).status_code for _ in range(30)]

    first = statuses()
    assert first == statuses()
    assert {200, 500} == set(first)


def test_control_api_lists_replaces_and_clears_faults(http: httpx.Client) -> None:
    set_faults(http, {"kind": "error", "op": "poll", "rate": 0.5}, seed=3)
    listed = http.get("/_mock/faults").json()
    assert listed["seed"] == 3 and listed["faults"] == [{"kind": "error", "op": "poll", "rate": 0.5}]
    assert "quota" in listed["kinds"]
    bad = http.put("/_mock/faults", json={"faults": [{"kind": "error", "status": 404}]})
    assert bad.status_code == 400 and "faults/0" in bad.json()["error"]["message"]
    assert http.delete("/_mock/faults").json()["faults"] == []


# -- observability ------------------------------------------------------------------------------


def test_metrics_count_requests_and_operations(http: httpx.Client, live: LiveMockServer) -> None:
    name = create(http).json()["name"]
    create(http, "a failure [mock:fail]")
    http.get(f"/gemini/v1beta/{name}", headers=KEY)
    http.get("/gemini/v1beta/models/x/operations/nope", headers=KEY)
    text = http.get("/_mock/metrics").text
    assert 'videogen_requests_total{dialect="gemini",operation="create",status="200"} 2' in text
    assert 'videogen_requests_total{dialect="gemini",operation="poll",status="404"} 1' in text
    assert 'videogen_operations_stored{dialect="gemini"} 2' in text and 'videogen_operations_stored{dialect="xiexus"} 0' in text
    assert 'videogen_operations_created_total{dialect="gemini",outcome="succeeded"} 1' in text
    assert 'videogen_operations_created_total{dialect="gemini",outcome="failed"} 1' in text


def test_the_access_log_is_json_and_never_holds_a_key(caplog: pytest.LogCaptureFixture) -> None:
    import json

    with MockVideoAPI(config=MockConfig(access_log=True)) as mock:
        logger = logging.getLogger("videogen.access")
        logger.addHandler(caplog.handler)
        try:
            body = {"instances": [{"prompt": "x"}]}
            mock.client.post(
                "/vertex/v1beta1/publishers/google/models/veo-3.0-generate-001:predictLongRunning?key=secret-query-key", json=body
            )
            mock.client.post(GEMINI_CREATE, json=body, headers={"x-goog-api-key": "secret-header-key"})
        finally:
            logger.removeHandler(caplog.handler)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "videogen.access"]
    assert [(line["dialect"], line["operation"], line["status"]) for line in lines] == [
        ("vertex", "create", 200),
        ("gemini", "create", 200),
    ]
    assert lines[0]["query"] == "key=REDACTED"
    assert "secret" not in caplog.text


def test_the_operation_list_filters_before_it_limits_and_pages() -> None:
    with MockVideoAPI(seed=2) as mock:
        for i in range(1200):  # more than one store page of the listing
            mock.client.post(GEMINI_CREATE, json={"instances": [{"prompt": f"clip {i}"}]}, headers={"x-goog-api-key": f"k{i % 600}"})
        mine = [
            mock.client.post(GEMINI_CREATE, json={"instances": [{"prompt": "mine"}]}, headers={"x-goog-api-key": "me"}) for _ in range(2)
        ]
        assert all(r.status_code == 200 for r in mine)
        listed = mock.client.get("/_mock/operations", params={"api_key": "me", "limit": 1}).json()
        assert len(listed["operations"]) == 1 and listed["next_after"] == listed["operations"][0]["token"]
        rest = mock.client.get("/_mock/operations", params={"api_key": "me", "limit": 1, "after": listed["next_after"]}).json()
        assert len(rest["operations"]) == 1 and rest["operations"][0]["token"] != listed["operations"][0]["token"]
        newest = mock.client.get("/_mock/operations", params={"order": "desc", "limit": 3}).json()["operations"]
        assert [o["inputs"]["prompt"] for o in newest] == ["mine", "mine", "clip 1199"]
        mock.client.post(f"/_mock/operations/{newest[0]['token']}/state", json={"state": "failed"})
        failed = mock.client.get("/_mock/operations", params={"state": "failed", "limit": 5}).json()
        assert [o["token"] for o in failed["operations"]] == [newest[0]["token"]] and failed["next_after"] is None


def test_metrics_read_no_operation() -> None:
    """A scrape must not decode the store: at 100,000 operations that blocked the loop for over a second."""
    with MockVideoAPI(seed=2) as mock:
        for i in range(50):
            create(mock.client, f"clip {i}")
        store = mock.runtime.store
        calls: list[str] = []
        for name in ("page", "get"):
            original = getattr(store, name)

            async def spy(*args: object, _name: str = name, _original: object = original, **kwargs: object) -> object:
                calls.append(_name)
                return await _original(*args, **kwargs)  # type: ignore[operator]

            setattr(store, name, spy)
        assert 'videogen_operations_stored{dialect="gemini"} 50' in mock.client.get("/_mock/metrics").text
    assert calls == [], calls


def test_the_memory_store_cap_and_the_input_cap_answer_in_the_vendors_shape() -> None:
    with MockVideoAPI(seed=2, max_operations=3, max_input_bytes=2048) as mock:
        assert [create(mock.client, f"clip {i}").status_code for i in range(3)] == [200, 200, 200]
        full = create(mock.client, "one too many")
        assert full.status_code == 429 and full.json()["error"]["status"] == "RESOURCE_EXHAUSTED" and "--max-operations" in full.text
        assert "retry-after" in full.headers
        assert mock.client.post("/_mock/reset").status_code == 200
        long = create(mock.client, "x" * 3000)
        assert long.status_code == 413 and long.json()["error"]["code"] == 413 and "limit is 2048 bytes" in long.text
        assert create(mock.client, "fits again").status_code == 200


def test_fault_rules_can_be_put_in_the_compact_syntax(http: httpx.Client) -> None:
    put = http.put("/_mock/faults", json={"faults": ["error:status=503,rate=0.5,op=poll;latency:ms=5", {"kind": "drop", "rate": 0.1}]})
    assert put.status_code == 200, put.text
    assert [r["kind"] for r in put.json()["faults"]] == ["error", "latency", "drop"]
    bad = http.put("/_mock/faults", json={"faults": ["boom:x=1"]})
    assert bad.status_code == 400 and "boom" in bad.text
    assert http.delete("/_mock/faults").json()["faults"] == []
