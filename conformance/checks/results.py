"""What a finished operation delivered: results in the number requested, each a real MP4
of the requested size and duration; or, for a failure, a well-formed error.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from pathlib import Path
from typing import Any

from conformance.catalog import Check
from conformance.exchange import Exchange
from conformance.expectations import DURATION_TOLERANCE_S, Expectation
from conformance.failures import Failure, Severity, observed
from conformance.media import NotPlayable, poster_png, probe
from conformance.report import Media
from conformance.session import Session
from videogen.pointer import MISSING
from videogen.reading import ResultRef, results_of, well_formed_error

__all__ = ["judge_results"]


def judge_results(
    session: Session, label: str, *, purpose: str, expect: Expectation, state: str, body: Any, poll: Exchange, handle: str
) -> list[str]:
    """Judge a terminal body; returns the result URLs that lie under the base URL."""
    ledger = session.ledger
    if state != "succeeded":
        ledger.skipped(Check.LIFECYCLE_RESULTS, label, f"the operation ended {state}: no results to count")
        ledger.skipped(Check.LIFECYCLE_MEDIA, label, f"the operation ended {state}: no media to open")
        if state == "failed":
            _judge_error(session, label, body, poll)
        return []
    if purpose == "failure":
        ledger.skipped(Check.LIFECYCLE_FAILURE_ERROR, label, "the target did not fail when asked to (--failure-suffix): nothing to judge")
    refs = results_of(session.read, body, handle=handle, base_url=session.config.base_url) or []
    where = (session.read.results.text or "the body") if session.read.results is not None else "the result route"
    if not refs or (expect.count is not None and len(refs) != expect.count):
        wanted = expect.count if expect.count is not None else "at least 1"
        title = f"a success carries {len(refs)} result(s) at {where}; {wanted} requested"
        ledger.failed(
            observed(Check.LIFECYCLE_RESULTS, poll, severity=Severity.HIGH, title=title, expected=f"{wanted} result(s)", target=label)
        )
    else:
        ledger.passed(Check.LIFECYCLE_RESULTS, label)
    urls = []
    for ref in refs:
        if ref.url is None and ref.base64 is None:
            if expect.references_only:
                ledger.skipped(Check.LIFECYCLE_MEDIA, label, "results went to the caller's storage URI: nothing to download")
                continue
            title = f"result #{ref.index} carries neither bytes nor a URL"
            ledger.failed(
                observed(Check.LIFECYCLE_RESULTS, poll, severity=Severity.HIGH, title=title, expected="a URL or inline bytes", target=label)
            )
            continue
        if ref.url is not None and session.client.is_ours(ref.url):
            urls.append(ref.url)
        _judge_media(session, label, expect, ref, poll)
    return urls


def _judge_error(session: Session, label: str, body: Any, poll: Exchange) -> None:
    pointer = session.read.error
    error = pointer.get(body)
    if well_formed_error(error):
        session.ledger.passed(Check.LIFECYCLE_FAILURE_ERROR, label)
        return
    shown = "nothing" if error is MISSING else repr(error)[:100]
    title = f"a failed operation carries {shown} at {pointer.text or '/'}, not an error with a message"
    session.ledger.failed(
        observed(Check.LIFECYCLE_FAILURE_ERROR, poll, severity=Severity.HIGH, title=title, expected="an error message", target=label)
    )


def _judge_media(session: Session, label: str, expect: Expectation, ref: ResultRef, poll: Exchange) -> None:
    ledger = session.ledger
    inline = ref.base64 if ref.url is None else None
    if ref.url is not None and ref.url.startswith("data:"):  # a data: URL carries the bytes itself
        header, _, payload = ref.url.partition(",")
        inline = payload if header.endswith(";base64") else None
        if inline is None:
            title = f"result #{ref.index} is a data: URL that is not base64"
            ledger.failed(
                observed(
                    Check.LIFECYCLE_MEDIA, poll, severity=Severity.HIGH, title=title, expected="data:video/mp4;base64,...", target=label
                )
            )
            return
    elif ref.url is not None:
        download = session.send("GET", ref.url, key=session.config.api_key, follow_redirects=True)
        if download.status is None or not 200 <= download.status < 300:
            title = f"result #{ref.index} does not download"
            ledger.failed(
                observed(Check.LIFECYCLE_MEDIA, download, severity=Severity.HIGH, title=title, expected="2xx with the MP4", target=label)
            )
            return
        if download.cut_at is not None:
            title = f"result #{ref.index} is larger than the kit's cap of {download.cut_at:,} bytes"
            ledger.failed(
                observed(
                    Check.LIFECYCLE_MEDIA,
                    download,
                    severity=Severity.HIGH,
                    title=title,
                    expected="an MP4 of a clip's size (raise --max-download-bytes for longer clips)",
                    target=label,
                )
            )
            return
        data, source = (download.file or download.body), download
    if inline is not None:
        try:
            data, source = base64.b64decode(inline, validate=True), poll
        except (binascii.Error, ValueError):
            title = f"result #{ref.index}'s inline bytes are not base64"
            ledger.failed(
                observed(Check.LIFECYCLE_MEDIA, poll, severity=Severity.HIGH, title=title, expected="base64 MP4 bytes", target=label)
            )
            return
    size = source.length if isinstance(data, Path) else len(data)
    try:
        info = probe(data)
        facts = Media(ref.index, size, info.codec, info.width, info.height, info.duration_s, info.frames, poster_png(data))
        session.media.setdefault(label, []).append(facts)
    except NotPlayable as exc:
        start = source.body[:16] if isinstance(data, Path) else data[:16]
        got = f"{size} bytes starting {start.hex(' ')}: {exc}" if not source.foreign else f"{size} bytes: {exc}"
        failure = observed(
            Check.LIFECYCLE_MEDIA,
            source,
            severity=Severity.HIGH,
            title=f"result #{ref.index} is not a playable MP4",
            expected="an MP4 a demuxer opens",
            target=label,
        )
        ledger.failed(_with_got(failure, got))
        return
    problems = []
    if expect.size is not None and (info.width, info.height) != expect.size:
        problems.append(f"{info.width}x{info.height}, not the requested {expect.size[0]}x{expect.size[1]}")
    if expect.duration_s is not None and abs(info.duration_s - expect.duration_s) > DURATION_TOLERANCE_S:
        problems.append(f"{info.duration_s:.2f} s long, not the requested {expect.duration_s:g} s (±{DURATION_TOLERANCE_S} s)")
    if problems:
        failure = observed(
            Check.LIFECYCLE_MEDIA,
            source,
            severity=Severity.HIGH,
            title=f"result #{ref.index} is " + "; ".join(problems),
            expected=expect.describe(),
            target=label,
        )
        ledger.failed(_with_got(failure, f"{info.codec} {info.width}x{info.height}, {info.duration_s:.2f} s, {info.frames} frames"))
        return
    ledger.passed(Check.LIFECYCLE_MEDIA, label)


def _with_got(failure: Failure, got: str) -> Failure:
    return replace(failure, got=got)
