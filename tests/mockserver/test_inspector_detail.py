"""What the inspector's operation page reads: GET /_mock/operations/{token}/detail, without a browser."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.cli import _config_from, build_parser
from mockserver.clock import VirtualClock
from mockserver.config import MockConfig
from mockserver.inspector import Exchanges
from mockserver.testing import MockVideoAPI

CREATE = "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning"
KEY = "AIzaSy-a-key-that-must-never-show"
SENT = {"headers": {"x-goog-api-key": KEY}, "params": {"key": KEY}}  # the header authenticates; the query must be redacted all the same


def test_the_last_exchange_of_each_kind_is_kept_with_keys_redacted_and_bodies_cut() -> None:
    with MockVideoAPI(clock=VirtualClock(), seed=3) as mock:
        prompt = "a lighthouse at dusk " * 400  # about 8 KiB: more than the page keeps
        created = mock.client.post(CREATE, **SENT, json={"instances": [{"prompt": prompt}]})
        assert created.status_code == 200
        name = created.json()["name"]
        mock.advance(3600)
        polled = mock.client.get(f"/gemini/v1beta/{name}", **SENT)
        assert polled.json()["done"] is True
        uri = polled.json()["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
        video = mock.client.get(uri.removeprefix("http://testserver") + f"&key={KEY}", headers=SENT["headers"])
        assert video.headers["content-type"] == "video/mp4"

        (record,) = mock.records("gemini")
        shown = mock.client.get(f"/_mock/operations/{record.token}/detail").json()
        exchanges = shown["exchanges"]
        assert set(exchanges) == {"create", "poll", "download"}
        for exchange in exchanges.values():
            assert KEY not in exchange["target"] and "key=REDACTED" in exchange["target"]
        create = exchanges["create"]
        assert create["method"] == "POST" and create["status"] == 200
        assert create["request"].endswith("…") and len(create["request"].encode()) < 4200 < len(created.request.content)
        assert exchanges["poll"]["answer"] == polled.text  # small JSON answers are shown whole
        assert exchanges["download"]["answer"] is None and exchanges["download"]["answer_type"] == "video/mp4"
        assert KEY not in str(shown) and shown["exchanges_kept"] is True


def test_the_oldest_operations_are_forgotten_first_and_a_repeat_keeps_its_place() -> None:
    kept = Exchanges(keep=1)  # four entries: a create, a poll, a download and a cancel of one operation
    answer = Response(b"{}", media_type="application/json")
    scope = {"method": "GET", "path": "/p", "query_string": b""}
    for token in ("a", "b"):
        kept.record(token, "create", scope, 200, b"", answer)
        kept.record(token, "poll", scope, 200, b"", answer)
    kept.record("a", "poll", scope, 202, b"", answer)  # a repeat replaces its entry, it adds none
    assert set(kept.of("a")) == {"create", "poll"} and kept.of("a")["poll"]["status"] == 202
    kept.record("c", "create", scope, 200, b"", answer)
    assert set(kept.of("a")) == {"poll"} and set(kept.of("b")) == {"create", "poll"} and set(kept.of("c")) == {"create"}
    kept.record("c", "poll", scope, 200, b"", answer)
    assert kept.of("a") == {} and len(kept._seen) == len(kept._order) == 4


def test_no_exchanges_keeps_none_and_says_so() -> None:
    with MockVideoAPI(config=MockConfig(exchanges=False)) as mock:
        assert mock.client.post(CREATE, headers=SENT["headers"], json={"instances": [{"prompt": "unseen"}]}).status_code == 200
        (record,) = mock.records("gemini")
        shown = mock.client.get(f"/_mock/operations/{record.token}/detail").json()
    assert shown["exchanges"] == {} and shown["exchanges_kept"] is False


def test_the_cli_flag_reaches_the_config() -> None:
    assert _config_from(build_parser().parse_args(["serve"]))["exchanges"] is True
    assert _config_from(build_parser().parse_args(["serve", "--no-exchanges"]))["exchanges"] is False
