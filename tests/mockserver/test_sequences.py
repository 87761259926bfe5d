"""Random sequences of create, poll, download, clock moves and resets, across two API
keys and every dialect at once, through the public API only.

Where test_stateful checks each poll against a timing model, this machine checks what
must hold whatever the timing: nothing created is lost until a reset, and everything is
gone after one; no key sees another key's operation; no status moves backwards, and a
finished operation never changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from mockserver.testing import MockVideoAPI
from tests import flow
from tests.conftest import DIALECTS
from videogen.dialect import Dialect
from videogen.reading import results_of
from videogen.states import ORDER, TERMINAL

KEYS = ("alice", "bob")
SUFFIXES = ("", " [mock:fail]", " [mock:filtered]", " [mock:never]")


@dataclass
class Op:
    """One created operation, as its owner's client knows it."""

    flow: flow.Flow
    owner: str
    token: str
    epoch: int  # the number of resets before it was created
    succeeded: Any = None  # the poll body that first showed success

    @property
    def dialect(self) -> Dialect:
        return self.flow.dialect

    @property
    def other(self) -> str:
        return KEYS[1] if self.owner == KEYS[0] else KEYS[0]

    def not_found(self) -> int:
        return self.dialect.error_kind("not_found").code


def target_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class SequenceMachine(RuleBasedStateMachine):
    ops = Bundle("ops")

    def __init__(self) -> None:
        super().__init__()
        self.mock = MockVideoAPI(DIALECTS.values(), seed=23)
        self.client = self.mock.client
        self.epoch = 0
        self.live: dict[str, Op] = {}  # by token: created since the last reset

    def is_live(self, op: Op) -> bool:
        return op.epoch == self.epoch

    def stored(self) -> set[str]:
        return {r.token for r in self.mock.records()}

    @rule(target=ops, name=st.sampled_from(sorted(DIALECTS)), key=st.sampled_from(KEYS), suffix=st.sampled_from(SUFFIXES))
    def create(self, name: str, key: str, suffix: str) -> Op:
        before = self.stored()
        f = flow.start(self.client, DIALECTS[name], key, prompt_suffix=suffix)
        new = self.stored() - before
        assert len(new) == 1, f"one create stored {len(new)} operations"
        op = Op(f, key, new.pop(), self.epoch)
        self.live[op.token] = op
        return op

    @rule(op=ops)
    def poll_as_owner(self, op: Op) -> None:
        self.check_owner_poll(op)

    @rule(ops=st.lists(ops, min_size=1, max_size=8, unique_by=id))
    def poll_several(self, ops: list[Op]) -> None:
        """Several polls in one step, so that long runs of clock moves and resets are still observed."""
        for op in ops:
            self.check_owner_poll(op)

    def check_owner_poll(self, op: Op) -> None:
        seen = len(op.flow.states)
        r = flow.poll(self.client, op.flow, op.owner)
        if not self.is_live(op):
            assert flow.unknown_answer(op.dialect, r), f"{op.dialect.name}: a reset operation still answers: {r.status_code} {r.text}"
            return
        assert r.status_code == 200, f"{op.dialect.name}: the owner lost its operation: {r.status_code} {r.text}"
        assert len(op.flow.states) == seen + 1, f"{op.dialect.name}: the owner got the unknown-id answer: {r.text}"
        states = op.flow.states
        if seen:
            before, now = states[-2], states[-1]
            assert ORDER[now] >= ORDER[before], f"{op.dialect.name}: status moved backwards: {states}"
            assert before not in TERMINAL or now == before, f"{op.dialect.name}: a finished operation changed: {states}"
        if states[-1] == "succeeded":
            op.succeeded = op.flow.bodies[-1]

    @rule(op=ops)
    def poll_as_the_other_key(self, op: Op) -> None:
        r = flow.poll(self.client, op.flow, op.other)
        assert flow.unknown_answer(op.dialect, r), f"{op.dialect.name}: {op.other} sees {op.owner}'s operation: {r.status_code} {r.text}"

    @rule(op=ops, wait=st.booleans())
    def download(self, op: Op, wait: bool) -> None:
        """Poll (after waiting out the lifecycle, or not), then download what succeeded: it works
        while the operation lives, for the owner (and for anyone when the download is anonymous),
        and is gone after a reset."""
        if wait:
            self.mock.advance(60.0)
        self.check_owner_poll(op)
        body = op.succeeded
        if body is None:
            return
        refs = results_of(op.dialect.read, body, handle=op.flow.handle, base_url=f"http://testserver/{op.dialect.name}") or []
        urls = [ref.url for ref in refs if ref.url and not ref.base64]
        if self.is_live(op):
            videos = flow.download(self.client, op.flow, body, op.owner)
            assert videos and all(v[4:8] == b"ftyp" for v in videos)
        anonymous = bool(urls) and not op.dialect.by_role("download")[0].security
        for url in urls:
            mine = self.client.get(target_of(url), headers=flow.auth(op.dialect, op.owner))
            theirs = self.client.get(target_of(url), headers=flow.auth(op.dialect, op.other))
            if not self.is_live(op):
                assert mine.status_code == theirs.status_code == op.not_found(), f"{op.dialect.name}: a reset video is still served"
            elif anonymous:
                assert theirs.status_code == 200, theirs.text
            else:
                assert theirs.status_code == op.not_found(), f"{op.dialect.name}: {op.other} downloads {op.owner}'s video"

    @rule(seconds=st.sampled_from([0.5, 1.0, 2.0, 5.0, 60.0]))
    def advance(self, seconds: float) -> None:
        self.mock.advance(seconds)

    @rule(op=ops, seconds=st.sampled_from([1.0, 5.0, 60.0]))
    def advance_then_poll(self, op: Op, seconds: float) -> None:
        """A clock move seen at once: without it, swarm-disabled polls would leave long runs unobserved."""
        self.mock.advance(seconds)
        self.check_owner_poll(op)

    @rule()
    def reset(self) -> None:
        r = self.client.post("/_mock/reset")
        assert r.status_code == 200, r.text
        assert r.json() == {"deleted": len(self.live)}
        self.epoch += 1
        self.live.clear()

    @rule(key=st.sampled_from(KEYS))
    def list_by_key(self, key: str) -> None:
        r = self.client.get("/_mock/operations", params={"api_key": key})
        assert r.status_code == 200, r.text
        listed = {o["token"] for o in r.json()["operations"]}
        assert listed == {t for t, op in self.live.items() if op.owner == key}

    @invariant()
    def nothing_is_lost_and_nothing_outlives_a_reset(self) -> None:
        assert self.stored() == set(self.live)

    def teardown(self) -> None:
        self.mock.close()


SequenceMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_sequences_keep_every_operation_to_its_owner = SequenceMachine.TestCase
