"""The checks the kit runs, by typed id: one place that names and explains every verdict.

A check id is ``category.name``, a member of :class:`Check`. Reports, JUnit and
the JSON file list these ids, so a failure can always be traced back to the
sentence that defines it here. Code names a check by its member
(``Check.AUTH_ISOLATION``), never by a string: a typo is an AttributeError at
import time, not a verdict nobody can find.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CATEGORIES", "CHECKS", "Check", "CheckInfo", "category_of"]

CATEGORIES = ("response", "input", "lifecycle", "auth", "courtesy", "webhook")


class Check(StrEnum):
    RESPONSE_STATUS = "response.status"
    RESPONSE_CONTENT_TYPE = "response.content_type"
    RESPONSE_SCHEMA = "response.schema"
    RESPONSE_HEADERS = "response.headers"
    INPUT_INVALID_REJECTED = "input.invalid_rejected"
    INPUT_VALID_ACCEPTED = "input.valid_accepted"
    INPUT_LITERAL_PATH = "input.literal_path"
    LIFECYCLE_CREATE = "lifecycle.create"
    LIFECYCLE_POLL = "lifecycle.poll"
    LIFECYCLE_ECHO = "lifecycle.echo"
    LIFECYCLE_MONOTONIC = "lifecycle.monotonic"
    LIFECYCLE_FINISHES = "lifecycle.finishes"
    LIFECYCLE_RESULTS = "lifecycle.results"
    LIFECYCLE_MEDIA = "lifecycle.media"
    LIFECYCLE_FAILURE_ERROR = "lifecycle.failure_error"
    LIFECYCLE_STABLE = "lifecycle.stable"
    LIFECYCLE_VARIANTS = "lifecycle.variants"
    LIFECYCLE_LIST = "lifecycle.list"
    LIFECYCLE_DELETE = "lifecycle.delete"
    LIFECYCLE_CANCEL = "lifecycle.cancel"
    AUTH_MISSING_KEY = "auth.missing_key"
    AUTH_INVALID_KEY = "auth.invalid_key"
    AUTH_ISOLATION = "auth.isolation"
    AUTH_UNKNOWN_ID = "auth.unknown_id"
    COURTESY_DOCUMENTED = "courtesy.documented"
    COURTESY_RETRY_AFTER = "courtesy.retry_after"
    WEBHOOK_DELIVERED = "webhook.delivered"
    WEBHOOK_SIGNED = "webhook.signed"
    WEBHOOK_SCHEMA = "webhook.schema"
    WEBHOOK_AGREES = "webhook.agrees"

    @property
    def category(self) -> str:
        return category_of(self)

    @property
    def sentence(self) -> str:
        """What the check holds a target to, in one sentence."""
        return _TITLES[self]


_TITLES = {
    Check.RESPONSE_STATUS: "every status code received is documented for its operation",
    Check.RESPONSE_CONTENT_TYPE: "every content type received is documented for its status",
    Check.RESPONSE_SCHEMA: "every body received matches its documented schema",
    Check.RESPONSE_HEADERS: "documented response headers are present and well-typed",
    Check.INPUT_INVALID_REJECTED: "invalid inputs (wrong types, enums, ranges, missing fields, malformed JSON) get a 4xx, never a 5xx",
    Check.INPUT_VALID_ACCEPTED: "valid inputs generated from the schema are accepted (a read may answer not-found), never a 5xx",
    Check.INPUT_LITERAL_PATH: "a handle with slashes is served when sent literally in the path",
    Check.LIFECYCLE_CREATE: "a valid create is accepted and answers with a handle",
    Check.LIFECYCLE_POLL: "every poll of a live operation answers 2xx with a recognisable state",
    Check.LIFECYCLE_ECHO: "the poll echoes the identity it was asked for",
    Check.LIFECYCLE_MONOTONIC: "the state never moves backwards",
    Check.LIFECYCLE_FINISHES: "the operation ends within --timeout",
    Check.LIFECYCLE_RESULTS: "a success carries results in the number requested, each with bytes or a URL",
    Check.LIFECYCLE_MEDIA: "each result downloads as an MP4 a real demuxer opens, at the requested size and duration",
    Check.LIFECYCLE_FAILURE_ERROR: "a failed operation carries a well-formed error",
    Check.LIFECYCLE_STABLE: "re-polling a finished operation gives the same outcome",
    Check.LIFECYCLE_VARIANTS: "each documented download variant (thumbnail, spritesheet) opens, in its documented media type",
    Check.LIFECYCLE_LIST: "the list pages through the caller's operations, each once, and ends",
    Check.LIFECYCLE_DELETE: "a deleted operation answers the documented not-found, to polls and downloads alike",
    Check.LIFECYCLE_CANCEL: "a cancel has the documented effect: a cancelled job ends cancelled, a finished one gets the documented error",
    Check.AUTH_MISSING_KEY: "a request without a key gets the documented missing-key error",
    Check.AUTH_INVALID_KEY: "a malformed or unknown key gets the documented error, never the data",
    Check.AUTH_ISOLATION: "another key cannot see or download the first key's operation",
    Check.AUTH_UNKNOWN_ID: "an unknown id gets the documented not-found answer, never a 5xx",
    Check.COURTESY_DOCUMENTED: "a 429 is documented for the operation that sent it",
    Check.COURTESY_RETRY_AFTER: "a 429 carries a usable Retry-After, and the limit lifts when it is honoured",
    Check.WEBHOOK_DELIVERED: "every event a job's states call for reaches the receiver within --webhook-wait",
    Check.WEBHOOK_SIGNED: "a delivery carries a valid signature where the document says events are signed",
    Check.WEBHOOK_SCHEMA: "a delivery's body matches the event's documented schema",
    Check.WEBHOOK_AGREES: "a delivery announces a state the job's polls showed",
}


@dataclass(frozen=True, slots=True)
class CheckInfo:
    id: Check
    title: str

    @property
    def category(self) -> str:
        return category_of(self.id)


def category_of(check: str) -> str:
    return check.partition(".")[0]


CHECKS: dict[str, CheckInfo] = {c.value: CheckInfo(c, c.sentence) for c in Check}
if set(_TITLES) != set(Check) or any(c.category not in CATEGORIES for c in Check):  # pragma: no cover - a broken checkout
    raise ImportError("every check needs a title and a known category")
