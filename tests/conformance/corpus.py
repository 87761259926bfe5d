"""The corpus: one realistic bug per faulty server, and the check that must flag it.

Each entry names the dialect it runs against, the check id that must fail, and the
other checks that may fail as true consequences of the same bug (``also``). Any
other failed check is a false alarm. ``CLEAN`` lists servers that behave unusually
but within the contract: the kit must pass them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import jsonschema_rs

from mockserver.errors import error_body
from mockserver.media import render_mp4
from tests.conformance.faulty import Answer, Call, Hooks
from videogen.dialect import Dialect

__all__ = ["BUGS", "CLEAN", "Bug"]


@dataclass(frozen=True)
class Bug:
    id: str
    dialect: str
    story: str
    check: str
    make: Callable[[Dialect], Hooks]
    also: frozenset[str] = frozenset()
    options: dict[str, Any] = field(default_factory=dict)
    # how the target sends its webhooks: a function of a delivery's (headers, body) -> (headers, body), or None to drop it
    webhooks: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes] | None] | None = None


def _vendor_error(dialect: Dialect, kind: str, message: str) -> Answer:
    status, body = error_body(dialect, kind, message)
    return Answer.of_json(status, body)


# -- lifecycle ----------------------------------------------------------------


def regress_after_done(dialect: Dialect) -> Hooks:
    finished: set[str] = set()

    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("done") is True:
            if body["name"] in finished:  # a replica with a stale cache answers the re-poll
                return answer.with_json({"name": body["name"], "done": False})
            finished.add(body["name"])
        return answer

    return Hooks(after=after)


def no_results(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("response", {}).get("generatedVideos"):
            del body["response"]["generatedVideos"]  # the upload step failed, the job is still marked done
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def never_finishes(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("done") is True:
            return answer.with_json({"name": body["name"], "done": False})  # the worker died; nobody marks it done
        return answer

    return Hooks(after=after)


def broken_result_url(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("url"):
            body["url"] = body["url"].replace("/v1/files/", "/v1/files/expired-")  # a CDN link that already expired
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def not_mp4(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "download" and answer.status == 200:
            return Answer(200, {"content-type": "video/mp4"}, b"<html><body>502 Bad Gateway (cache miss)</body></html>")
        return answer

    return Hooks(after=after)


def wrong_size(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "download" and answer.status == 200:  # ignores the aspect ratio: always landscape
            return Answer(200, {"content-type": "video/mp4"}, render_mp4(1280, 720, 4.0))
        return answer

    return Hooks(after=after)


def bad_failure_error(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("status") == "failed":
            body["error"] = {}  # the upstream error was lost on the way
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def no_echo(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200:
            body["id"] = "internal-task-000042"  # the relay's own id leaks instead of the public one
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def unstable_outcome(dialect: Dialect) -> Hooks:
    seen: dict[str, int] = {}

    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("done") is True and "response" in body:
            seen[body["name"]] = seen.get(body["name"], 0) + 1
            if seen[body["name"]] > 1:  # results expire after the first read
                body["response"]["generatedVideos"] = []
                return answer.with_json(body)
        return answer

    return Hooks(after=after)


# -- responses and inputs -------------------------------------------------------


def wrong_type(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role in ("create", "poll") and answer.status == 200 and "metadata" in body:
            body["metadata"]["width"] = str(body["metadata"]["width"])  # "1280", not 1280
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def wrong_content_type(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "download" and answer.status == 200:
            return Answer(200, {**answer.headers, "content-type": "application/octet-stream"}, answer.body)
        return answer

    return Hooks(after=after)


def malformed_error(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if 400 <= answer.status < 500:
            return answer.with_json({"error": "Bad Request"})  # a framework default, not the documented object
        return answer

    return Hooks(after=after)


def accepts_invalid(dialect: Dialect) -> Hooks:
    op = dialect.create
    valid = jsonschema_rs.validator_for(op.body_schema)
    fallback = json.dumps(dialect.read.example).encode()

    def before(call: Call) -> Call | Answer:
        if call.role != "create" or call.headers.get("content-type", "").startswith("multipart/"):
            return call  # a form (what an SDK sends) is read as sent
        if call.json() is None or not valid.is_valid(call.json()):
            headers = {**call.headers, "content-type": "application/json"}
            return Call(call.method, call.path, call.query, headers, fallback, call.role)  # "lenient": defaults instead
        return call

    return Hooks(before=before)


def crash_on_edge(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        body = call.json()
        parameters = body.get("parameters") if isinstance(body, dict) else None
        seed = parameters.get("seed") if isinstance(parameters, dict) else None
        if call.role == "create" and isinstance(seed, int) and seed > 2**31 - 1:
            return _vendor_error(dialect, "internal", "Internal error encountered.")  # an int32 column overflows
        return call

    return Hooks(before=before)


# -- auth and isolation ---------------------------------------------------------


def unknown_id_500(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "poll" and answer.status == 404:  # a None dereference on a cache miss
            return _vendor_error(dialect, "internal", "Internal error encountered.")
        return answer

    return Hooks(after=after)


def auth_ignored(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        if "authorization" not in call.headers:  # anonymous callers fall back to a shared account
            return Call(call.method, call.path, call.query, {**call.headers, "authorization": "Bearer anonymous"}, call.body, call.role)
        return call

    return Hooks(before=before)


def leak_between_keys(dialect: Dialect) -> Hooks:
    first: list[str] = []

    def before(call: Call) -> Call | Answer:
        key = call.headers.get("x-goog-api-key", "")
        if call.role == "create" and key and not first:
            first.append(key)
        if call.role == "poll" and key and first:  # the owner check compares the project, not the key
            return Call(call.method, call.path, call.query, {**call.headers, "x-goog-api-key": first[0]}, call.body, call.role)
        return call

    return Hooks(before=before)


def wrong_missing_key_status(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if answer.status == 401:
            return Answer(403, answer.headers, answer.body)  # 403 where the dialect documents 401
        return answer

    return Hooks(after=after)


# -- courtesy -------------------------------------------------------------------


def throttled_once(dialect: Dialect, *, status_body: Any, retry_after: str, log: list[tuple[str, str]] | None = None) -> Hooks:
    """The first poll of each created operation is answered 429 with ``Retry-After``."""
    created: set[str] = set()
    throttled: set[str] = set()

    def before(call: Call) -> Call | Answer:
        name = next((n for n in created if call.path.endswith(n)), None)
        if call.role == "poll" and name is not None:
            if log is not None:
                log.append((name, "poll"))
            if name not in throttled:
                throttled.add(name)
                return Answer.of_json(429, status_body, {"retry-after": retry_after})
        return call

    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "create" and answer.status == 200:
            created.add(answer.json()["name"])
        return answer

    return Hooks(before=before, after=after)


def undocumented_429(dialect: Dialect) -> Hooks:
    return throttled_once(dialect, status_body={"error": {"code": 429, "message": "Too many requests"}}, retry_after="2")


# -- format version 2: results by id, variants, list, delete, multipart, webhooks ---------------


def list_leaks(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        if call.role == "list":  # the list query forgot its WHERE owner = ?
            return replace(call, headers={**call.headers, "authorization": "Bearer key-1"})
        return call

    return Hooks(before=before)


def list_never_ends(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "list" and answer.status == 200 and body.get("data"):
            return answer.with_json({**body, "data": body["data"] + body["data"][:1], "has_more": True})  # a cursor that loops
        return answer

    return Hooks(after=after)


def delete_is_a_no_op(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        if call.role == "delete" and call.method == "DELETE":  # acknowledged, never carried out
            video = call.path.rsplit("/", 1)[1]
            return Answer.of_json(200, {"id": video, "object": "video.deleted", "deleted": True})
        return call

    return Hooks(before=before)


def thumbnail_mislabelled(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "download" and answer.status == 200 and "variant=thumbnail" in call.query:
            return Answer(200, {"content-type": "image/webp"}, b"\xff\xd8\xff\xe0 a JPEG labelled as WebP")
        return answer

    return Hooks(after=after)


def content_route_missing(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        if call.role == "download":  # the relay never implemented GET /videos/{id}/content
            return _vendor_error(dialect, "not_found", "No such endpoint")
        return call

    return Hooks(before=before)


def json_only(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        if call.role == "create" and call.headers.get("content-type", "").startswith("multipart/"):
            return _vendor_error(dialect, "invalid_request", "Content-Type must be application/json")  # what the SDK sends is refused
        return call

    return Hooks(before=before)


def wrong_webhook_secret(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes] | None:
    from mockserver.webhooks import sign

    stamp = int(headers["webhook-timestamp"])
    return {
        **headers,
        "webhook-signature": sign("whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldA==", headers["webhook-id"], stamp, body),
    }, body


def completed_for_everything(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes] | None:
    from mockserver.webhooks import sign

    changed = body.replace(b'"video.failed"', b'"video.completed"')  # one event type for every outcome
    secret = "whsec_dmlkZW9nZW4tbW9jay13ZWJob29rLXNlY3JldC0wMQ=="
    return {**headers, "webhook-signature": sign(secret, headers["webhook-id"], int(headers["webhook-timestamp"]), changed)}, changed


def never_sent(headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes] | None:
    return None  # the queue that sends events was never started


def passthrough(dialect: Dialect) -> Hooks:
    return Hooks()


V2_BUGS = [
    Bug("list-leaks-across-keys", "openai", "the list ignores whose key asks", "auth.isolation", list_leaks),
    Bug("list-never-ends", "openai", "the list cursor loops: has_more is always true", "lifecycle.list", list_never_ends),
    Bug(
        "delete-is-a-no-op",
        "openai",
        "DELETE answers deleted:true and keeps the video",
        "lifecycle.delete",
        delete_is_a_no_op,
        frozenset({"auth.isolation", "auth.unknown_id"}),  # it answers 200 to any id and any key
    ),
    Bug("thumbnail-mislabelled", "openai", "the thumbnail is a JPEG served as image/webp", "lifecycle.variants", thumbnail_mislabelled),
    Bug(
        "content-route-missing",
        "openai",
        "results addressed by id 404: the relay never built the content route",
        "lifecycle.media",
        content_route_missing,
        frozenset({"lifecycle.variants", "auth.missing_key"}),  # a keyless download meets the same 404
    ),
    Bug(
        "multipart-refused",
        "openai",
        "a gateway that parses JSON only refuses the SDK's multipart create",
        "lifecycle.create",
        json_only,
        frozenset({"auth.missing_key"}),
    ),
    Bug(
        "webhook-wrong-secret",
        "openai",
        "events are signed with another tenant's secret",
        "webhook.signed",
        passthrough,
        webhooks=wrong_webhook_secret,
    ),
    Bug(
        "webhook-wrong-event",
        "openai",
        "every job's event says video.completed, failed ones too",
        "webhook.agrees",
        passthrough,
        options={"failure_suffix": " [mock:fail]"},
        webhooks=completed_for_everything,
    ),
    Bug("webhook-never-sent", "openai", "the event queue never runs", "webhook.delivered", passthrough, webhooks=never_sent),
]

# -- hostile vendors: what the kit must survive and never copy --------------------------

SECRET = "INTERNAL-SECRET=hunter2-do-not-share"
INTERNAL_PAGE = f"{SECRET}\nDB_PASSWORD=also-secret\n"


def json_not_utf8(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        if call.role == "poll" and answer.status == 200:
            return replace(answer, body=answer.body[:-1] + b',"note":"caf\xe9 \xff"}')  # Latin-1 bytes in a JSON answer
        return answer

    return Hooks(after=after)


def result_on_an_internal_service(dialect: Dialect) -> Hooks:
    """The result URL points at another origin that answers with an internal page."""

    def before(call: Call) -> Call | Answer:
        if call.headers.get("host") == "internal.test":
            return Answer(200, {"content-type": "text/plain"}, INTERNAL_PAGE.encode())
        return call

    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("url"):
            body["url"] = f"http://internal.test/{dialect.name}/admin/env"
            return answer.with_json(body)
        return answer

    return Hooks(before=before, after=after)


HOSTILE_BUGS = [
    Bug(
        "json-not-utf8",
        "gemini",
        "a poll answer holds Latin-1 bytes inside its JSON",
        "response.schema",
        json_not_utf8,
        frozenset({"lifecycle.poll", "lifecycle.finishes"}),
    ),
    Bug(
        "result-on-an-internal-service",
        "xiexus",
        "the result URL names an internal service on another origin",
        "lifecycle.media",
        result_on_an_internal_service,
    ),
]

BUGS = [
    Bug(
        "status-regresses-after-done",
        "gemini",
        "a finished operation answers done:false on a re-poll",
        "lifecycle.monotonic",
        regress_after_done,
        frozenset({"lifecycle.stable"}),
    ),
    Bug("success-without-results", "tokenops", "done:true with no generatedVideos", "lifecycle.results", no_results),
    Bug("field-has-wrong-type", "xiexus", "metadata.width is a string", "response.schema", wrong_type),
    Bug(
        "unknown-id-500",
        "veo-relay",
        "an unknown task id crashes the query",
        "auth.unknown_id",
        unknown_id_500,
        frozenset({"input.valid_accepted", "auth.isolation", "auth.invalid_key"}),
    ),
    Bug("auth-ignored", "openai", "requests without a key run on a shared account", "auth.missing_key", auth_ignored),
    Bug(
        "data-leaks-between-keys",
        "gemini",
        "any key can poll any operation",
        "auth.isolation",
        leak_between_keys,
        frozenset({"auth.invalid_key"}),
    ),
    Bug("never-finishes", "vertex", "operations stay done:false forever", "lifecycle.finishes", never_finishes, options={"timeout": 60.0}),
    Bug("result-url-broken", "xiexus", "the result URL has expired when it is handed out", "lifecycle.media", broken_result_url),
    Bug("result-not-mp4", "veo-relay", "the result URL serves an HTML error page as video/mp4", "lifecycle.media", not_mp4),
    Bug(
        "wrong-content-type",
        "openai",
        "downloads are application/octet-stream",
        "response.content_type",
        wrong_content_type,
        frozenset({"lifecycle.variants"}),  # the thumbnail and the spritesheet are octet-streams too
    ),
    Bug(
        "invalid-input-accepted",
        "gemini",
        "a lenient gateway replaces invalid bodies with defaults",
        "input.invalid_rejected",
        accepts_invalid,
    ),
    Bug("crash-on-edge-value", "vertex", "a seed above 2^31-1 overflows and 500s", "input.valid_accepted", crash_on_edge),
    Bug("malformed-error-object", "veo-relay", "4xx bodies are {error: 'Bad Request'}", "response.schema", malformed_error),
    Bug(
        "undocumented-429",
        "tokenops",
        "polls are throttled with a 429 the dialect never documents",
        "courtesy.documented",
        undocumented_429,
    ),
    Bug(
        "failure-without-message",
        "xiexus",
        "a failed task's error is {}",
        "lifecycle.failure_error",
        bad_failure_error,
        options={"failure_suffix": " [mock:fail]"},
    ),
    Bug("poll-does-not-echo", "veo-relay", "the query answers with an internal id", "lifecycle.echo", no_echo),
    Bug("wrong-resolution", "gemini", "videos are always 1280x720, whatever the aspect ratio", "lifecycle.media", wrong_size),
    Bug(
        "missing-key-wrong-status",
        "vertex",
        "a missing key gets 403, the dialect documents 401",
        "auth.missing_key",
        wrong_missing_key_status,
        frozenset({"response.status", "auth.invalid_key"}),
    ),
    Bug("results-expire-on-read", "tokenops", "the second poll of a success has no results", "lifecycle.stable", unstable_outcome),
    *V2_BUGS,
    *HOSTILE_BUGS,
]


# -- unusual but within the contract: the kit must pass these -----------------------------


def documented_429(dialect: Dialect) -> Hooks:
    return throttled_once(
        dialect, status_body={"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}, retry_after="1"
    )


def resigned_urls(dialect: Dialect) -> Hooks:
    count = [0]

    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("response", {}).get("generatedVideos"):
            count[0] += 1
            for video in body["response"]["generatedVideos"]:
                video["uri"] += f"&sig={count[0]}"  # a fresh signature on every read
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def redirected_download(dialect: Dialect) -> Hooks:
    def before(call: Call) -> Call | Answer:
        if call.path.startswith("/v1/cdn/"):
            return Answer(302, {"location": f"http://testserver/{dialect.name}/v1/files/{call.path.rsplit('/', 1)[1]}"})
        return call

    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("url"):
            body["url"] = body["url"].replace("/v1/files/", "/v1/cdn/")
            return answer.with_json(body)
        return answer

    return Hooks(before=before, after=after)


def extra_fields(dialect: Dialect) -> Hooks:
    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if isinstance(body, dict) and answer.status < 300:
            body["x_request_id"] = "req-123"  # undocumented extra fields are allowed
            return answer.with_json(body)
        return answer

    return Hooks(after=after)


def published_contract_only(dialect: Dialect) -> Hooks:
    """A vendor that serves only what it published: no download route (the mock's choice), its
    videos on a CDN path of its own that the result URIs name."""

    def before(call: Call) -> Call | Answer:
        if call.role == "download":  # the route the mock invented does not exist here: the web server's own 404
            return Answer(404, {"content-type": "text/html"}, b"<html><body><h1>404 Not Found</h1></body></html>")
        if call.path.startswith("/cdn/"):
            file_id = call.path.removeprefix("/cdn/").removesuffix(".mp4")
            return replace(call, path=f"/v1beta/files/{file_id}:download", query="alt=media", role="download-via-cdn")
        return call

    def after(call: Call, answer: Answer) -> Answer:
        body = answer.json()
        if call.role == "poll" and answer.status == 200 and body.get("response", {}).get("generatedVideos"):
            for video in body["response"]["generatedVideos"]:
                file_id = video["uri"].split("/files/")[1].split(":")[0]
                video["uri"] = f"http://testserver/{dialect.name}/cdn/{file_id}.mp4"
            return answer.with_json(body)
        return answer

    return Hooks(before=before, after=after)


CLEAN = [
    ("published-contract-only", "tokenops", published_contract_only),
    ("documented-429-honoured", "gemini", documented_429),
    ("signed-urls-change-per-poll", "tokenops", resigned_urls),
    ("download-redirects-to-cdn", "xiexus", redirected_download),
    ("extra-response-fields", "veo-relay", extra_fields),
]
