"""The checks the kit runs, by id: one place that names and explains every verdict.

A check id is ``category.name``. Reports, JUnit and the JSON file list these ids,
so a failure can always be traced back to the sentence that defines it here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATEGORIES", "CHECKS", "CheckInfo", "category_of"]

CATEGORIES = ("response", "input", "lifecycle", "auth", "courtesy")


@dataclass(frozen=True, slots=True)
class CheckInfo:
    id: str
    title: str

    @property
    def category(self) -> str:
        return category_of(self.id)


def category_of(check: str) -> str:
    return check.partition(".")[0]


_ALL = (
    CheckInfo("response.status", "every status code received is documented for its operation"),
    CheckInfo("response.content_type", "every content type received is documented for its status"),
    CheckInfo("response.schema", "every body received matches its documented schema"),
    CheckInfo("response.headers", "documented response headers are present and well-typed"),
    CheckInfo(
        "input.invalid_rejected", "invalid inputs (wrong types, enums, ranges, missing fields, malformed JSON) get a 4xx, never a 5xx"
    ),
    CheckInfo("input.valid_accepted", "valid inputs generated from the schema are accepted (a read may answer not-found), never a 5xx"),
    CheckInfo("input.literal_path", "a handle with slashes is served when sent literally in the path"),
    CheckInfo("lifecycle.create", "a valid create is accepted and answers with a handle"),
    CheckInfo("lifecycle.poll", "every poll of a live operation answers 2xx with a recognisable state"),
    CheckInfo("lifecycle.echo", "the poll echoes the identity it was asked for"),
    CheckInfo("lifecycle.monotonic", "the state never moves backwards"),
    CheckInfo("lifecycle.finishes", "the operation ends within --timeout"),
    CheckInfo("lifecycle.results", "a success carries results in the number requested, each with bytes or a URL"),
    CheckInfo("lifecycle.media", "each result downloads as an MP4 a real demuxer opens, at the requested size and duration"),
    CheckInfo("lifecycle.failure_error", "a failed operation carries a well-formed error"),
    CheckInfo("lifecycle.stable", "re-polling a finished operation gives the same outcome"),
    CheckInfo("auth.missing_key", "a request without a key gets the documented missing-key error"),
    CheckInfo("auth.invalid_key", "a malformed or unknown key gets the documented error, never the data"),
    CheckInfo("auth.isolation", "another key cannot see or download the first key's operation"),
    CheckInfo("auth.unknown_id", "an unknown id gets the documented not-found answer, never a 5xx"),
    CheckInfo("courtesy.documented", "a 429 is documented for the operation that sent it"),
    CheckInfo("courtesy.retry_after", "a 429 carries a usable Retry-After, and the limit lifts when it is honoured"),
)

CHECKS: dict[str, CheckInfo] = {c.id: c for c in _ALL}
