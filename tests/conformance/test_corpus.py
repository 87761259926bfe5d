"""Trust, part two: every bug in the corpus is flagged by the right check, and only by it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.html import write_html
from conformance.junit import write_junit
from mockserver.testing import MockVideoAPI, free_port
from tests.conformance.conftest import DIALECTS, listening_mock, run_kit
from tests.conformance.corpus import BUGS, CLEAN, INTERNAL_PAGE, SECRET, Bug
from tests.conformance.faulty import Hooks
from videogen.dialect import Dialect


def test_the_corpus_is_broad() -> None:
    assert len(BUGS) >= 12
    assert len({b.dialect for b in BUGS}) >= 3
    assert len({b.id for b in BUGS}) == len(BUGS)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.id)
def test_each_bug_is_flagged_by_its_check(bug: Bug) -> None:
    options = {"max_creates": 2, **bug.options}
    if bug.webhooks is None:
        report = run_kit(bug.dialect, bug.make(DIALECTS[bug.dialect]), **options)
    else:
        mock, listen = listening_mock(bug.webhooks)
        with mock:
            report = run_kit(bug.dialect, bug.make(DIALECTS[bug.dialect]), mock=mock, webhook_listen=listen, webhook_wait=60, **options)
    assert bug.check in report.failed_checks, f"{bug.story}: not flagged by {bug.check}\n{report.summary()}"
    false_alarms = report.failed_checks - {bug.check, *bug.also}
    assert not false_alarms, f"{bug.story}: also failed {sorted(false_alarms)}\n{report.summary()}"
    assert report.creates_spent <= report.max_creates
    for failure in report.failures:
        assert "key-1" not in failure.curl and "key-2" not in failure.curl, failure.curl


@pytest.mark.parametrize(("name", "dialect", "make"), CLEAN, ids=[c[0] for c in CLEAN])
def test_unusual_but_conforming_servers_pass(name: str, dialect: str, make: Callable[[Dialect], Hooks]) -> None:
    report = run_kit(dialect, make(DIALECTS[dialect]), max_creates=2)
    assert report.conforms, report.summary()


def test_events_for_pending_states_the_polls_missed_agree() -> None:
    """A kit polling every 30 s never sees a 5-second job queued or running; the target's
    callbacks for those states are still true, and must not be held against it."""
    with MockVideoAPI(seed=11, time_scale=0.1) as mock:
        report = run_kit("ark", mock=mock, webhook_listen=f"127.0.0.1:{free_port()}", webhook_wait=60, max_creates=1, poll_interval=30.0)
    (job,) = report.jobs
    assert "queued" not in job.states and "running" not in job.states, job.states
    assert report.conforms, report.summary()
    assert any(c.check == "webhook.agrees" and c.status.value == "passed" for c in report.cases)


def test_a_foreign_origins_answer_is_never_copied_into_a_report(tmp_path: Path) -> None:
    bug = next(b for b in BUGS if b.id == "result-on-an-internal-service")
    report = run_kit(bug.dialect, bug.make(DIALECTS[bug.dialect]), max_creates=1)
    assert "lifecycle.media" in report.failed_checks
    report.write_json(tmp_path / "r.json")
    write_junit(report, tmp_path / "r.xml")
    write_html(report, tmp_path / "r.html")
    texts = [report.summary(), *((tmp_path / name).read_text() for name in ("r.json", "r.xml", "r.html"))]
    assert all(SECRET not in text and "DB_PASSWORD" not in text for text in texts)
    (failure,) = [f for f in report.failures if f.check == "lifecycle.media"]
    assert failure.got.startswith(f"{len(INTERNAL_PAGE)} bytes: FFmpeg cannot open it"), failure.got  # its size, not its bytes
