"""A stateful hypothesis test: the simulator against a simple model, on a fake clock.

The model knows only the plan (when each operation was created, its scenario, the
dialect's durations, forced states) and predicts what every poll must show. Rules
create, poll, download, force a state and advance the clock, across two API keys
and every dialect.
"""

from __future__ import annotations

from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from mockserver.testing import MockVideoAPI
from tests import flow
from tests.conftest import DIALECTS
from videogen.dialect import Dialect
from videogen.reading import results_of
from videogen.states import ORDER

KEYS = ("alice", "bob")
OUTCOMES = {"": "succeeded", " [mock:fail]": "failed", " [mock:filtered]": "filtered", " [mock:never]": "never"}


@dataclass
class Expected:
    """The model of one operation."""

    flow: flow.Flow
    owner: str
    created: float
    outcome: str
    token: str
    forced: str | None = None
    forced_at: float | None = None
    queued_until: float | None = None  # set when a test forces "running"
    last_rank: int = -1

    def state(self, now: float, queued: float, running: float) -> str:
        if self.forced is not None and self.forced_at is not None and now >= self.forced_at:
            return self.forced
        if self.queued_until is not None:
            queued = self.queued_until - self.created
        t = now - self.created
        if t < queued:
            return "queued"
        if self.outcome == "never" or t < queued + running:
            return "running"
        return self.outcome


def as_read(dialect: Dialect, internal: str) -> set[str]:
    """The read states a client may see for an internal state, per the dialect's rules."""
    names = {rule.state for rule in dialect.read.states}
    if internal in names:
        return {internal}
    if internal in ("queued", "running"):
        return {"pending"}
    if internal == "filtered":
        return {"failed"}
    return {internal}


class SimulatorMachine(RuleBasedStateMachine):
    ops = Bundle("ops")

    def __init__(self) -> None:
        super().__init__()
        self.mock = MockVideoAPI(DIALECTS.values(), seed=11)
        self.model: list[Expected] = []

    @initialize(name=st.sampled_from(sorted(DIALECTS)))
    def pick_dialect(self, name: str) -> None:
        self.dialect = DIALECTS[name]

    def durations(self, model: str) -> tuple[float, float]:
        return self.dialect.lifecycle.durations(model)

    @rule(target=ops, key=st.sampled_from(KEYS), suffix=st.sampled_from(sorted(OUTCOMES)))
    def create(self, key: str, suffix: str) -> Expected:
        f = flow.start(self.mock.client, self.dialect, key, prompt_suffix=suffix)
        record = self.mock.records()[-1]
        expected = Expected(f, key, self.mock.clock.now(), OUTCOMES[suffix], record.token)
        assert record.model == f.model or not f.model
        self.model.append(expected)
        return expected

    @rule(op=ops)
    def poll_as_owner(self, op: Expected) -> None:
        seen = len(op.flow.states)
        r = flow.poll(self.mock.client, op.flow, op.owner)
        assert r.status_code == 200 and len(op.flow.states) == seen + 1, r.text  # not the unknown-id answer
        queued, running = self.durations(self.record_model(op))
        want = as_read(self.dialect, op.state(self.mock.clock.now(), queued, running))
        got = op.flow.states[-1]
        assert got in want, f"poll shows {got}, the model expects {want}"
        rank = ORDER[got]
        assert rank >= op.last_rank, f"status moved backwards: {op.flow.states}"
        op.last_rank = rank

    @rule(op=ops)
    def poll_as_the_other_key(self, op: Expected) -> None:
        other = KEYS[1] if op.owner == KEYS[0] else KEYS[0]
        r = flow.poll(self.mock.client, op.flow, other)
        assert flow.unknown_answer(self.dialect, r), r.text

    @rule(op=ops)
    def download(self, op: Expected) -> None:
        queued, running = self.durations(self.record_model(op))
        if op.state(self.mock.clock.now(), queued, running) != "succeeded":
            return
        r = flow.poll(self.mock.client, op.flow, op.owner)
        refs = results_of(self.dialect.read, r.json(), handle=op.flow.handle, base_url=f"http://testserver/{self.dialect.name}")
        assert refs, r.text
        videos = flow.download(self.mock.client, op.flow, r.json(), op.owner)
        assert all(v[4:8] == b"ftyp" for v in videos)

    @rule(op=ops, target_state=st.sampled_from(["running", "succeeded", "failed", "filtered"]))
    def force(self, op: Expected, target_state: str) -> None:
        now = self.mock.clock.now()
        queued, running = self.durations(self.record_model(op))
        current = op.state(now, queued, running)
        r = self.mock.client.post(f"/_mock/operations/{op.token}/state", json={"state": target_state})
        finished = current in ("succeeded", "failed", "filtered")
        if current == target_state:
            assert r.status_code == 200
        elif finished or ORDER[target_state] < ORDER[current]:
            assert r.status_code == 409, r.text
        else:
            assert r.status_code == 200, r.text
            if target_state == "running":
                op.queued_until = now
            else:
                op.forced, op.forced_at = target_state, now

    @rule(seconds=st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0, 60.0]))
    def advance(self, seconds: float) -> None:
        self.mock.advance(seconds)

    @rule(op=ops, offset=st.sampled_from([-0.01, 0.01]))
    def advance_to_the_edge(self, op: Expected, offset: float) -> None:
        """Move the clock to just before or just after this operation's next transition,
        where an off-by-a-little lifecycle would show the wrong state."""
        queued, running = self.durations(self.record_model(op))
        now = self.mock.clock.now()
        if op.queued_until is not None:
            queued = op.queued_until - op.created
        upcoming = [t + offset for t in (op.created + queued, op.created + queued + running) if t + offset > now]
        if upcoming:
            self.mock.advance(min(upcoming) - now)

    @invariant()
    def nothing_is_lost(self) -> None:
        if hasattr(self, "dialect"):
            stored = {r.token for r in self.mock.records()}
            assert {e.token for e in self.model} <= stored

    def record_model(self, op: Expected) -> str:
        for record in self.mock.records():
            if record.token == op.token:
                return record.model
        raise AssertionError(f"operation {op.token} was lost")

    def teardown(self) -> None:
        self.mock.close()


SimulatorMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_simulator_matches_the_model = SimulatorMachine.TestCase
