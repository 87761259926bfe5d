"""Keys are hidden where they travel, and nowhere else: a repro line still reproduces.

A key is replaced by ``$API_KEY`` in its credential slot whatever its length; in
free text (bodies, messages, paths) only when it is at least eight characters long,
so that ``--api-key a`` never turns ``Authorization`` into ``Authoriz$API_KEYtion``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.exchange import MIN_FREE_TEXT, Exchange, Redactor, SentRequest
from conformance.junit import write_junit
from tests.conformance.conftest import DIALECTS, run_kit
from tests.conformance.corpus import BUGS
from videogen.credentials import Slot

BEARER = Slot("header", "authorization", bearer=True)
GOOG = Slot("header", "x-goog-api-key")
QUERY = Slot("query", "key")
LONG = "sk-" + "0123456789abcdefghijklmnopqrstuvwxyzABC"[:37]  # 40 characters
KEYS = ["a", "ab", LONG]


def expand(line: str, key: str) -> list[str]:
    """The words bash passes to curl for a repro line, with $API_KEY set to ``key``."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash to expand the repro line")
    words = line.split(" ", 1)[1]
    script = f"for w in {words}; do printf '%s\\0' \"$w\"; done"
    out = subprocess.run([bash, "-c", script], capture_output=True, check=True, env={"API_KEY": key}).stdout
    return out.decode().split("\0")[:-1]


def test_the_length_rule_is_eight() -> None:
    assert MIN_FREE_TEXT == 8 and len(LONG) == 40


@pytest.mark.parametrize("key", KEYS, ids=len)
def test_a_key_in_its_slots_is_hidden_and_the_line_still_reproduces(key: str) -> None:
    redactor = Redactor({key: "API_KEY"}, [BEARER, GOOG, QUERY])
    request = SentRequest(
        "POST",
        f"https://api.test/v1beta/models/veo:predict?key={key}&alt=sse",
        (("Authorization", f"Bearer {key}"), ("x-goog-api-key", key), ("content-type", "application/json")),
        b'{"prompt": "a cat at the bakery"}',
    )
    line = Exchange(request, 200, redactor=redactor).curl()
    assert line.count('"$API_KEY"') == 3, line  # the three slots, nothing else
    assert expand(line, key) == [
        "-sS",
        "-X",
        "POST",
        f"https://api.test/v1beta/models/veo:predict?key={key}&alt=sse",
        "-H",
        f"Authorization: Bearer {key}",
        "-H",
        f"x-goog-api-key: {key}",
        "-H",
        "content-type: application/json",
        "--data-binary",
        '{"prompt": "a cat at the bakery"}',
    ]
    shown = Exchange(request, 200, redactor=redactor).request_line()
    assert shown == "POST https://api.test/v1beta/models/veo:predict?key=$API_KEY&alt=sse"


@pytest.mark.parametrize("key", KEYS, ids=len)
def test_free_text_hides_only_long_keys(key: str) -> None:
    redactor = Redactor({key: "API_KEY"}, [BEARER])
    body = json.dumps({"error": {"message": f"API key not valid: {key}", "status": "UNAUTHENTICATED"}}).encode()
    got = Exchange(SentRequest("GET", "http://x/"), 401, {"content-type": "application/json"}, body, redactor=redactor).excerpt()
    if len(key) >= MIN_FREE_TEXT:
        assert key not in got and "API key not valid: $API_KEY" in got
    else:  # a one- or two-letter key is left alone: "API key" stays "API key"
        assert "$API_KEY" not in got and "API key not valid" in got


def test_a_header_that_only_contains_a_short_key_is_not_a_slot() -> None:
    redactor = Redactor({"a": "API_KEY"}, [BEARER])
    line = Exchange(
        SentRequest("GET", "http://x/a", (("accept", "application/json"), ("Authorization", "Bearer a"))), 200, redactor=redactor
    ).curl()
    assert line == "curl -sS -X GET 'http://x/a' -H 'accept: application/json' -H 'Authorization: Bearer '\"$API_KEY\""
    assert not redactor.carries_secret("accept", "application/json")
    assert redactor.carries_secret("Authorization", "Bearer a") and redactor.carries_secret("authorization", "Basic other")


@pytest.mark.parametrize("key", KEYS, ids=len)
@pytest.mark.parametrize("bug_id", ["wrong-content-type", "invalid-input-accepted", "missing-key-wrong-status"])
def test_reports_of_a_real_run_reproduce_with_any_key_length(key: str, bug_id: str, tmp_path: Path) -> None:
    bug = next(b for b in BUGS if b.id == bug_id)
    report = run_kit(bug.dialect, bug.make(DIALECTS[bug.dialect]), api_key=key, max_creates=2)
    assert bug.check in report.failed_checks, report.summary()
    slots = {(s.location, s.name) for op in DIALECTS[bug.dialect].operations for s in op.credentials}
    for failure in report.failures:
        assert "$API_KEY" not in failure.got or len(key) >= MIN_FREE_TEXT, failure.got
        if not failure.curl:
            continue
        words = expand(failure.curl, key)
        headers = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
        url = words[3]
        assert "$" not in url and "API_KEY" not in " ".join(headers), failure.curl
        for name, value in (h.split(": ", 1) for h in headers):
            if ("header", name.lower()) in slots and value not in ("", "Basic Y29uZm9ybWFuY2U6a2l0"):
                assert value in (key, f"Bearer {key}") or "unknown" in value, (name, value)
    report.write_json(tmp_path / "r.json")
    write_junit(report, tmp_path / "r.xml")
    for out in ("r.json", "r.xml"):
        text = (tmp_path / out).read_text()
        for mangled in ("Authoriz$", "$API_KEYey", "$API_KEYuthorization", "$API_KEYpplication"):
            assert mangled not in text, (out, mangled)
        if len(key) >= MIN_FREE_TEXT:
            assert key not in text
