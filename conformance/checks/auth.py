"""Auth and isolation: no key, a malformed key, an unknown key, another account's key,
and an id that names nothing, each answered with the error the dialect documents.

Probes that could start a paid job (a create without a key) are sent only while the
budget could absorb a server that wrongly accepts them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conformance.bodies import encode_body
from conformance.catalog import Check
from conformance.checks.preflight import preflight
from conformance.exchange import Exchange
from conformance.failures import Severity, observed
from conformance.identity import UNKNOWN_KEY, unknown_handle
from conformance.phases import Run, phase
from conformance.session import Session
from videogen.dialect import Operation
from videogen.errors import VideogenError
from videogen.reading import classify, create_request, example_model

__all__ = ["UnreachableError", "create_probes", "download_probes", "poll_probes", "unknown_id_probe"]


def _malformed(op: Operation) -> dict[str, str]:
    """The credential slot filled the wrong way: a non-Bearer scheme, or an empty key."""
    return next((headers for slot in op.credentials if (headers := slot.malformed()) is not None), {})


def judge(
    session: Session,
    check: str,
    exchange: Exchange,
    *,
    allowed: Iterable[int],
    meaning: str,
    target: str | None = None,
    leak: str = "served the request",
    lenient: bool = False,
) -> None:
    """Pass when the status is one of ``allowed``; a 2xx or 5xx is critical, another 4xx medium.

    A 2xx is allowed only as a dialect's documented answer for an unknown id, and only when
    its body is not an operation (no ``read.states`` rule recognises it)."""
    codes = sorted(set(allowed))
    status = exchange.status
    expected = f"{' or '.join(map(str, codes))} ({meaning})"
    served = status is not None and 200 <= status < 300 and classify(session.read, exchange.json()) is not None
    if (status in codes or (lenient and status is not None and 400 <= status < 500)) and not served:
        # lenient: the expected status is the mock's own choice, so any refusal (a 4xx) honours the published contract
        session.ledger.passed(check, target or exchange.target)
        return
    if status is not None and 200 <= status < 300:
        severity, title = Severity.CRITICAL, leak
    elif status is None or status >= 500:
        severity, title = Severity.CRITICAL, "a server error instead of the documented error" if status else "no answer"
    elif 400 <= status < 500:
        severity, title = Severity.MEDIUM, f"{status} instead of the documented {expected}"
    else:
        severity, title = Severity.HIGH, f"{status} instead of the documented {expected}"
    session.ledger.failed(observed(check, exchange, severity=severity, title=title, expected=expected, target=target))


def unknown_id_probe(session: Session, path_params: Mapping[str, str]) -> tuple[str, Exchange]:
    """Poll a well-formed id that names nothing; the first request of a run. Returns (the id, the answer)."""
    model = path_params.get("model", "") or example_model(session.dialect)
    unknown = unknown_handle(session.dialect, None, model=model, now_s=int(session.client.epoch()))
    exchange = session.poll(unknown, path_params, key=session.config.api_key)
    if exchange.status is not None:
        judge(
            session,
            Check.AUTH_UNKNOWN_ID,
            exchange,
            allowed=session.unknown_codes(),
            lenient=session.chosen("not_found"),
            meaning="not found",
            leak="an unknown id was served",
        )
    return unknown, exchange


def poll_probes(session: Session, handle: str | None, path_params: Mapping[str, str]) -> None:
    """Read-only probes on the poll: a real handle when there is one, else a made-up one."""
    model = path_params.get("model", "") or example_model(session.dialect)
    params = {**path_params, "model": model} if model else dict(path_params)
    subject = handle or unknown_handle(session.dialect, None, model=model, now_s=int(session.client.epoch()))
    if handle is not None:  # the same token changed: an id shaped exactly like a live one
        twin = unknown_handle(session.dialect, handle, model=model, now_s=0)
        not_found = session.kind_code("not_found")
        judge(
            session,
            Check.AUTH_UNKNOWN_ID,
            session.poll(twin, params, key=session.config.api_key),
            allowed=session.unknown_codes(),
            lenient=session.chosen("not_found"),
            meaning="not found",
            leak="an unknown id was served",
        )
    _, op = session.poll_request(subject, params)
    missing, invalid, not_found = session.kind_code("missing_key"), session.kind_code("invalid_key"), session.kind_code("not_found")
    if op.security:
        judge(
            session,
            Check.AUTH_MISSING_KEY,
            session.poll(subject, params, key=None),
            allowed=[missing],
            lenient=session.chosen("missing_key"),
            meaning="missing key",
            leak="served without a key",
        )
        malformed = session.poll(subject, params, key=None, headers=_malformed(op))
        judge(
            session,
            Check.AUTH_INVALID_KEY,
            malformed,
            allowed=[missing, invalid],
            lenient=session.chosen("missing_key", "invalid_key"),
            meaning="malformed key",
            leak="served with a malformed key",
        )
        wrong = session.poll(subject, params, key=UNKNOWN_KEY)
        judge(
            session,
            Check.AUTH_INVALID_KEY,
            wrong,
            allowed=[invalid, *session.unknown_codes()],
            lenient=session.chosen("invalid_key", "not_found"),
            meaning="unknown key",
            leak="served another key's operation to an unknown key",
        )
    else:
        for check in (Check.AUTH_MISSING_KEY, Check.AUTH_INVALID_KEY):
            session.ledger.skipped(check, op.operation_id, "the poll is documented without security")
    other = session.config.other_api_key
    if other is None:
        session.ledger.skipped(Check.AUTH_ISOLATION, op.operation_id, "pass --other-api-key to check isolation between keys")
    elif handle is None:
        session.ledger.skipped(Check.AUTH_ISOLATION, op.operation_id, "no operation was created to hide from the other key")
    else:
        exchange = session.poll(handle, params, key=other)
        if exchange.status == invalid != not_found:
            session.ledger.skipped(
                Check.AUTH_ISOLATION, op.operation_id, f"the target refused --other-api-key ({invalid}): pass a working key"
            )
            return
        judge(
            session,
            Check.AUTH_ISOLATION,
            exchange,
            allowed=session.unknown_codes(),
            lenient=session.chosen("not_found"),
            meaning="not found, as for an unknown id",
            leak="another key's operation was served",
        )


def create_probes(session: Session) -> None:
    """A create without a key: free when refused, so sent only while the budget has room."""
    op = session.create_op
    if op.choice:
        session.ledger.skipped(Check.AUTH_MISSING_KEY, op.operation_id, "the create is the mock's choice, not published by the vendor")
        return
    if not op.security:
        session.ledger.skipped(Check.AUTH_MISSING_KEY, op.operation_id, "the create is documented without security")
        return
    if session.budget.left <= 0:
        session.ledger.skipped(
            Check.AUTH_MISSING_KEY, op.operation_id, "no create left in --max-creates to absorb a create the server might accept"
        )
        return
    request = create_request(session.dialect)
    headers, content = encode_body(op, request.json)
    exchange = session.send(request.method, request.path, key=None, op=op, headers=headers, content=content)
    if exchange.status is not None and 200 <= exchange.status < 300:
        session.budget.spend(unexpected=True)
    missing = session.kind_code("missing_key")
    judge(
        session,
        Check.AUTH_MISSING_KEY,
        exchange,
        allowed=[missing],
        meaning="missing key",
        leak="a paid job started without a key",
        lenient=session.chosen("missing_key"),
    )


def download_probes(session: Session, urls: list[str]) -> None:
    """A secured result URL is refused without a key and to another key."""
    for url in urls[:1]:
        matched = session.routes.match("GET", url)
        if matched is None or not matched[0].security or matched[0].choice:
            continue  # a public (signed) link, or a route the vendor never published: nothing to hold it to
        op = matched[0]
        judge(
            session,
            Check.AUTH_MISSING_KEY,
            session.send("GET", url, key=None, op=op),
            allowed=[session.kind_code("missing_key")],
            lenient=session.chosen("missing_key"),
            meaning="missing key",
            leak="a result was served without a key",
        )
        if session.config.other_api_key:
            exchange = session.send("GET", url, key=session.config.other_api_key, op=op)
            judge(
                session,
                Check.AUTH_ISOLATION,
                exchange,
                allowed=[session.kind_code("not_found")],
                lenient=session.chosen("not_found"),
                meaning="not found",
                leak="another key's result was served",
            )


class UnreachableError(VideogenError):
    """The base URL does not answer at all; nothing can be judged."""


@phase(10, "preflight: an unknown id")
def _unknown_id(run: Run) -> None:
    session = run.session
    handle, first = unknown_id_probe(session, run.example.path_params)
    if first.status is None and first.unreachable:
        raise UnreachableError(f"{session.config.base_url} does not answer: {first.error}")
    if first.status is None:
        return  # it is there but did not answer in time: a finding the checks record, not a setup mistake
    preflight(session, first, handle, run.example.path_params, run.example.path)


@phase(40, "auth and isolation")
def _auth_and_isolation(run: Run) -> None:
    job = run.first
    poll_probes(run.session, job.handle if job else None, job.path_params if job else run.example.path_params)


@phase(55, "a create without a key")
def _keyless_create(run: Run) -> None:
    create_probes(run.session)


@phase(80, "downloads without a key or with another")
def _downloads(run: Run) -> None:
    download_probes(run.session, [url for job in run.jobs for url in job.result_urls])
