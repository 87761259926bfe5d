"""What a finished job offers beyond its video: variants, the list, delete and cancel.

All of it is read from the dialect model (the download's variants, the list's
paging, the delete's and cancel's effects); a dialect without one of these
operations is not judged on it. Everything here is free but one thing: a pending
cancel needs a live job, so it is tried only while ``--max-creates`` has room.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from conformance.catalog import Check
from conformance.checks.auth import judge
from conformance.checks.lifecycle import Job, poll_until_done, start_job
from conformance.exchange import Exchange
from conformance.failures import Severity, observed
from conformance.media import NotPlayable, probe_image
from conformance.phases import Run, phase
from conformance.session import Session
from videogen.dialect import Operation
from videogen.inputs import Source
from videogen.pointer import MISSING
from videogen.reading import result_route
from videogen.states import TERMINAL, reads_as

__all__: list[str] = []

MAX_PAGES = 20  # the list walk stops here whatever the target says


def _target(op: Operation, handle: str, query: dict[str, str] | None = None) -> str:
    """The request target of ``op`` for the operation ``handle`` (its id in the path or the query)."""
    source = op.id_source
    assert source is not None
    path = op.route.expand({source.key: handle} if source.kind == "path" else {}, encode=True)
    params = {**({source.key: handle} if source.kind == "query" else {}), **(query or {})}
    return path + ("?" + urlencode(params) if params else "")


def _internal(job: Job) -> str:
    """The internal state a finished job's read state stands for (a coarse read names its own)."""
    return job.final if job.final in ("succeeded", "failed", "filtered", "cancelled") else "failed"


def _finished(run: Run, state: str | None = None) -> list[Job]:
    return [j for j in run.jobs if j.final is not None and (state is None or j.final == state)]


# -- variants ---------------------------------------------------------------------------


@phase(75, "download variants")
def _variants(run: Run) -> None:
    session = run.session
    op = next((o for o in session.dialect.by_role("download") if o.variant_source is not None and o.id_source is not None), None)
    if op is None:
        return
    job = next(iter(_finished(run, "succeeded")), None)
    if job is None:
        session.ledger.skipped(Check.LIFECYCLE_VARIANTS, op.operation_id, "no job succeeded: no variants to fetch")
        return
    assert op.variant_source is not None
    for variant, media in op.variants.items():
        if variant == "video":
            continue  # judged with the results (lifecycle.media)
        exchange = session.send("GET", _target(op, job.handle, {op.variant_source.key: variant}), key=session.config.api_key, op=op)
        _judge_variant(session, job, op, variant, media=media, exchange=exchange)


def _judge_variant(session: Session, job: Job, op: Operation, variant: str, *, media: str, exchange: Exchange) -> None:
    target = f"{op.operation_id}?{variant}"
    if exchange.status is None or not 200 <= exchange.status < 300:
        title = f"the {variant} of a finished job does not download"
        session.ledger.failed(
            observed(Check.LIFECYCLE_VARIANTS, exchange, severity=Severity.HIGH, title=title, expected=f"2xx {media}", target=target)
        )
        return
    got = exchange.content_type.split(";")[0].strip().lower()
    if got != media:
        title = f"the {variant} is served as {got or 'no content type'}, not the documented {media}"
        session.ledger.failed(
            observed(Check.LIFECYCLE_VARIANTS, exchange, severity=Severity.MEDIUM, title=title, expected=media, target=target)
        )
        return
    try:
        width, height = probe_image(exchange.body, media)
    except NotPlayable as exc:
        title = f"the {variant} does not open as {media}: {exc}"
        session.ledger.failed(
            observed(Check.LIFECYCLE_VARIANTS, exchange, severity=Severity.HIGH, title=title[:200], expected=media, target=target)
        )
        return
    if variant == "thumbnail" and job.expect.size is not None and (width, height) != job.expect.size:
        size = f"{job.expect.size[0]}x{job.expect.size[1]}"
        title = f"the thumbnail is {width}x{height}, not the video's {size}"
        session.ledger.failed(
            observed(Check.LIFECYCLE_VARIANTS, exchange, severity=Severity.MEDIUM, title=title, expected=size, target=target)
        )
        return
    session.ledger.passed(Check.LIFECYCLE_VARIANTS, target)


# -- the list -----------------------------------------------------------------------------


def _param(source: Source | None) -> str | None:
    return source.key if source is not None and source.kind == "query" else None


def _walk(session: Session, op: Operation, key: str, limit: int) -> tuple[list[str], Exchange | None, str]:
    """The ids the list hands out, page by page; the last exchange; why the walk stopped."""
    page = op.page
    assert page is not None and op.items is not None and op.item_id is not None
    ids: list[str] = []
    exchange: Exchange | None = None
    state: dict[str, Any] = {"after": None, "offset": 0, "page": 1}
    for _ in range(MAX_PAGES):
        query = {name: str(limit) for name in [_param(page.limit)] if name}
        if page.style == "cursor" and state["after"] and _param(page.after):
            query[str(_param(page.after))] = state["after"]
        elif page.style == "offset" and _param(page.offset):
            query[str(_param(page.offset))] = str(state["offset"])
        elif page.style == "page" and _param(page.page):
            query[str(_param(page.page))] = str(state["page"])
        exchange = session.send("GET", op.route.expand({}) + "?" + urlencode(query), key=key, op=op)
        body = exchange.json()
        items = op.items.get(body) if exchange.status is not None and 200 <= exchange.status < 300 else MISSING
        if not isinstance(items, list):
            return ids, exchange, "answer"
        page_ids = [str(op.item_id.get(item)) for item in items]
        ids += page_ids
        if len(items) < limit or not items:
            return ids, exchange, "end"
        state["after"], state["offset"], state["page"] = page_ids[-1], state["offset"] + len(items), state["page"] + 1
    return ids, exchange, "pages"


@phase(76, "the list")
def _list(run: Run) -> None:
    session = run.session
    op = next(iter(session.dialect.by_role("list")), None)
    if op is None:
        return
    mine = [j.handle for j in run.jobs]
    ids, exchange, stopped = _walk(session, op, session.config.api_key, limit=2)
    if exchange is None:
        return
    problems = []
    if stopped == "answer":
        problems.append(f"a page did not answer 2xx with a list at {op.items.text if op.items else '/'}")
    elif stopped == "pages":
        problems.append(f"the list did not end within {MAX_PAGES} pages of 2")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        problems.append(f"ids listed twice: {', '.join(repeated[:5])}")
    missing = [h for h in mine if h not in ids]
    if missing and stopped == "end":
        problems.append(f"the run's own jobs are not listed: {', '.join(missing)}")
    if problems:
        expected = "every one of the caller's operations once, and an end"
        title = "; ".join(problems)
        session.ledger.failed(observed(Check.LIFECYCLE_LIST, exchange, severity=Severity.HIGH, title=title[:300], expected=expected))
    else:
        session.ledger.passed(Check.LIFECYCLE_LIST, op.operation_id)
    other = session.config.other_api_key
    if other is None:
        session.ledger.skipped(Check.AUTH_ISOLATION, op.operation_id, "pass --other-api-key to check that lists are per key")
        return
    theirs, last, _ = _walk(session, op, other, limit=20)
    leaked = [h for h in mine if h in theirs]
    if last is not None and leaked:
        title = f"another key's list holds this key's operations: {', '.join(leaked)}"
        session.ledger.failed(
            observed(Check.AUTH_ISOLATION, last, severity=Severity.CRITICAL, title=title, expected="only the caller's operations")
        )
    elif last is not None:
        session.ledger.passed(Check.AUTH_ISOLATION, op.operation_id)


# -- delete and cancel -------------------------------------------------------------------------


def _expect_effect(session: Session, op: Operation, effect: str, exchange: Exchange, *, check: Check, meaning: str) -> bool:
    """Judge the answer to a delete or cancel against its documented effect; True when it took effect."""
    if effect.startswith("error:"):
        code = session.kind_code(effect.removeprefix("error:"))
        kind = effect.removeprefix("error:")
        judge(
            session,
            check,
            exchange,
            allowed=[code],
            meaning=f"{meaning} is refused",
            leak=f"{meaning} was accepted",
            lenient=session.chosen(kind),
        )
        return False
    if exchange.status is not None and 200 <= exchange.status < 300:
        session.ledger.passed(check, op.operation_id)
        return True
    title = f"{meaning} got {exchange.status}" if exchange.status else f"{meaning} got no answer"
    severity = Severity.CRITICAL if exchange.status is None or exchange.status >= 500 else Severity.HIGH
    session.ledger.failed(observed(check, exchange, severity=severity, title=title, expected="2xx"))
    return False


@phase(85, "delete")
def _delete(run: Run) -> None:
    session = run.session
    op = next(iter(session.dialect.by_role("delete")), None)
    if op is None:
        return
    not_found = session.kind_code("not_found")
    unknown = session.send(
        "DELETE", _target(op, f"{run.jobs[0].handle}x" if run.jobs else "conformance-unknown"), key=session.config.api_key, op=op
    )
    judge(
        session,
        Check.AUTH_UNKNOWN_ID,
        unknown,
        allowed=[not_found],
        meaning="not found",
        leak="an unknown id was deleted",
        lenient=session.chosen("not_found"),
    )
    finished = _finished(run)
    if not finished:
        session.ledger.skipped(Check.LIFECYCLE_DELETE, op.operation_id, "no job finished: nothing to delete")
        return
    job = finished[-1]
    if session.config.other_api_key:
        theirs = session.send("DELETE", _target(op, job.handle), key=session.config.other_api_key, op=op)
        judge(
            session,
            Check.AUTH_ISOLATION,
            theirs,
            allowed=[not_found],
            meaning="not found",
            leak="another key deleted this key's job",
            lenient=session.chosen("not_found"),
        )
    exchange = session.send("DELETE", _target(op, job.handle), key=session.config.api_key, op=op)
    effect = op.effect(_internal(job))
    if (
        not _expect_effect(session, op, effect, exchange, check=Check.LIFECYCLE_DELETE, meaning="deleting a finished job")
        or effect != "delete"
    ):
        return
    poll = session.poll(job.handle, job.path_params, key=session.config.api_key)
    judge(
        session,
        Check.LIFECYCLE_DELETE,
        poll,
        allowed=session.unknown_codes(),
        lenient=session.chosen("not_found"),
        meaning="not found after delete",
        leak="a deleted job is still served",
    )
    urls = [u for u in job.result_urls if session.client.is_ours(u)]
    route = result_route(session.read, job.handle, session.config.base_url)
    for url in ([route] if route else urls)[:1]:
        download = session.send("GET", url, key=session.config.api_key)
        judge(
            session,
            Check.LIFECYCLE_DELETE,
            download,
            allowed=[not_found],
            lenient=session.chosen("not_found"),
            meaning="not found after delete",
            leak="a deleted job's video is still served",
        )


@phase(86, "cancel")
def _cancel(run: Run) -> None:
    session = run.session
    op = next(iter(session.dialect.by_role("cancel")), None)
    if op is None:
        return
    finished = _finished(run)
    if finished:
        job = finished[0]
        exchange = session.send(op.method, _target(op, job.handle), key=session.config.api_key, op=op)
        effect = op.effect(_internal(job))
        _expect_effect(session, op, effect, exchange, check=Check.LIFECYCLE_CANCEL, meaning="cancelling a finished job")
    if session.budget.left <= 0:
        session.ledger.skipped(Check.LIFECYCLE_CANCEL, op.operation_id, "no create left in --max-creates for a job to cancel while it runs")
        return
    live = start_job(session, f"job#{len(run.jobs) + 1}", "cancel", run.example.json)
    if live is None:
        return
    run.jobs.append(live)
    exchange = session.send(op.method, _target(op, live.handle), key=session.config.api_key, op=op)
    # Sent at once after the create, the cancel meets the job queued, or (at a fast vendor) running.
    effects = {op.effect("queued"), op.effect("running")}
    refusals = {session.kind_code(e.removeprefix("error:")) for e in effects if e.startswith("error:")}
    if exchange.status in refusals:
        session.ledger.passed(Check.LIFECYCLE_CANCEL, op.operation_id)
        return
    effect = "cancel" if "cancel" in effects else min(effects)
    if not _expect_effect(session, op, effect, exchange, check=Check.LIFECYCLE_CANCEL, meaning="cancelling a live job"):
        return
    if effect != "cancel":
        return
    poll_until_done(session, [live])
    if live.final is not None and live.final in TERMINAL and not reads_as("cancelled", live.final) and live.final != "succeeded":
        title = f"a cancelled job ended {live.final}"
        session.ledger.failed(
            observed(Check.LIFECYCLE_CANCEL, exchange, severity=Severity.HIGH, title=title, expected="cancelled", target=live.label)
        )
    elif live.final == "succeeded":
        session.notes.append(f"{live.label} finished before the cancel took effect (a race the vendor may win)")
    elif live.final is not None:
        session.ledger.passed(Check.LIFECYCLE_CANCEL, live.label)
