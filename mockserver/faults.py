"""Faults on demand: the mock misbehaves only when asked, and the same way every time.

A fault is a rule: a kind, an optional scope (dialect, operation role, model) and
a rate. Rules come from ``--fault`` flags, a YAML profile (``--faults``), the
``X-Mock-Fault`` request header, or ``PUT /_mock/faults``. Every random choice is
drawn from one generator seeded by ``--seed``, so a request sequence meets the
same faults on every run.

The compact form, used by the flag and the header::

    kind[:key=value,key=value][; kind...]
    error:status=503,rate=0.1,op=poll
    latency:ms=250                    latency:dist=uniform,min=50,max=400
    rate_limit:retry_after=2          quota:limit=5,window=60
    drop   truncate:keep=0.5   slow_download:bytes_per_s=20000   fail_after:after=3
    filtered_empty   download_redirect   redirect_needs_key
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from videogen.errors import ConfigError
from videogen.yamlsafe import UnsafeYamlError, load_yaml_file

__all__ = ["KINDS", "NO_FAULT", "Decision", "FaultError", "FaultInjector", "FaultRule", "load_profile", "parse_compact"]

# kind -> what it does; the README's fault table is generated from nothing else.
KINDS = {
    "latency": "wait before answering: a fixed `ms`, or `dist` uniform(min,max) | normal(mean,sd) | exponential(mean), in ms",
    "error": "answer with the vendor's own 500 (`status=500`) or 503 (`status=503`)",
    "rate_limit": "answer 429 in the vendor's shape with `Retry-After: retry_after` seconds",
    "quota": "allow `limit` creates per `window` seconds per key, then 429 with Retry-After until a slot frees",
    "drop": "send the status line and headers, then close the connection without a body",
    "truncate": "send only the first `keep` fraction (default 0.5) of the body, then close",
    "slow_download": "stream a download at `bytes_per_s`",
    "fail_after": "an operation created under this rule fails after running for `after` seconds",
    "filtered_empty": "an operation created under this rule ends safety-filtered, with an empty result list where the dialect has one",
    "download_redirect": "a download answers 302 to a signed URL that serves the bytes",
    "redirect_needs_key": "like download_redirect, but the signed URL wants the API key again",
}
ROLES = ("create", "poll", "download")

_NUMBER = {"type": "number", "minimum": 0}
RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": sorted(KINDS)},
        "dialect": {"type": "string", "minLength": 1},
        "op": {"enum": list(ROLES)},
        "model": {"type": "string", "minLength": 1},
        "rate": {"type": "number", "minimum": 0, "maximum": 1},
        "ms": _NUMBER,
        "dist": {"enum": ["uniform", "normal", "exponential"]},
        "min": _NUMBER,
        "max": _NUMBER,
        "mean": _NUMBER,
        "sd": _NUMBER,
        "status": {"enum": [500, 503]},
        "retry_after": {"type": "number", "minimum": 0, "maximum": 86400},
        "limit": {"type": "integer", "minimum": 0},
        "window": {"type": "number", "exclusiveMinimum": 0},
        "keep": {"type": "number", "minimum": 0, "maximum": 1},
        "bytes_per_s": {"type": "integer", "minimum": 1},
        "after": _NUMBER,
    },
}
PROFILE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"seed": {"type": ["integer", "null"]}, "faults": {"type": "array", "items": RULE_SCHEMA}},
}
_RULE = jsonschema_rs.validator_for(RULE_SCHEMA)
_PROFILE = jsonschema_rs.validator_for(PROFILE_SCHEMA)
_MAX_LATENCY_MS = 120_000.0


class FaultError(ConfigError):
    """A fault rule that does not parse; the message shows the expected form."""


@dataclass(frozen=True, slots=True)
class FaultRule:
    kind: str
    dialect: str | None = None
    op: str | None = None
    model: str | None = None
    rate: float = 1.0
    params: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "fault") -> FaultRule:
        problems = [f"{'/'.join(map(str, e.instance_path)) or 'rule'}: {e.message}" for e in _RULE.iter_errors(dict(raw))]
        if problems:
            raise FaultError(f"{where}: {'; '.join(problems)}")
        scope = {k: raw[k] for k in ("dialect", "op", "model") if k in raw}
        params = {k: float(v) for k, v in raw.items() if k not in ("kind", "dialect", "op", "model", "rate", "dist")}
        if "dist" in raw:
            params["dist"] = float(("uniform", "normal", "exponential").index(raw["dist"]))
        rule = cls(raw["kind"], rate=float(raw.get("rate", 1.0)), params=params, **scope)
        if rule.kind == "latency" and "ms" not in params and "dist" not in params:
            raise FaultError(f"{where}: latency needs ms=N or dist=uniform|normal|exponential with its parameters")
        return rule

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in asdict(self).items() if k != "params" and v is not None}
        for k, v in self.params.items():
            out[k] = ("uniform", "normal", "exponential")[int(v)] if k == "dist" else (int(v) if v.is_integer() else v)
        return out

    def applies(self, dialect: str, role: str | None, model: str | None) -> bool:
        return (
            (self.dialect is None or self.dialect == dialect)
            and (self.op is None or self.op == role)
            and (self.model is None or self.model == model)
        )


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_compact(text: str, where: str = "fault") -> list[FaultRule]:
    """``kind[:k=v,...][; kind...]`` -> rules."""
    rules = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        kind, _, rest = part.partition(":")
        raw: dict[str, Any] = {"kind": kind.strip()}
        for pair in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, value = pair.partition("=")
            if not eq:
                raise FaultError(f"{where}: {pair!r} is not key=value (in {part!r}); the form is kind[:key=value,...]")
            raw[key.strip()] = _value(value.strip())
        rules.append(FaultRule.from_dict(raw, where))
    return rules


def load_profile(path: Path) -> tuple[int | None, list[FaultRule]]:
    """A YAML profile: ``{seed: N, faults: [{kind: ..., ...}, ...]}``."""
    try:
        raw = load_yaml_file(path) or {}
    except UnsafeYamlError as exc:
        raise FaultError(f"fault profile: {exc}") from None
    problems = [f"/{'/'.join(map(str, e.instance_path))}: {e.message}" for e in _PROFILE.iter_errors(raw)]
    if problems:
        raise FaultError(f"fault profile {str(path)!r}: {'; '.join(problems)}")
    return raw.get("seed"), [FaultRule.from_dict(r, f"{path}: faults/{i}") for i, r in enumerate(raw.get("faults", []))]


@dataclass(slots=True)
class Decision:
    """What the faults chose for one request."""

    latency_s: float = 0.0
    error_status: int | None = None  # 500 or 503
    retry_after: float | None = None  # a 429 with this Retry-After
    drop: bool = False
    keep: float | None = None  # truncate to this fraction
    bytes_per_s: int | None = None
    fail_after: float | None = None
    filtered_empty: bool = False
    redirect: bool = False
    redirect_needs_key: bool = False

    @property
    def quiet(self) -> bool:
        return self == NO_FAULT


NO_FAULT = Decision()


class FaultInjector:
    """Holds the active rules and the seeded generator; decides per request."""

    def __init__(self, rules: Iterable[FaultRule] = (), seed: int | None = None) -> None:
        self.rules: list[FaultRule] = list(rules)
        self.seed = seed
        self._rng = random.Random(seed)
        self._quota: dict[tuple[str, str], deque[float]] = {}

    def replace(self, rules: Iterable[FaultRule], seed: int | None = None) -> None:
        self.rules = list(rules)
        if seed is not None:
            self.seed = seed
        self._rng = random.Random(self.seed)
        self._quota.clear()

    def decide(
        self, dialect: str, role: str | None, model: str | None, *, owner: str, now: float, extra: Iterable[FaultRule] = ()
    ) -> Decision:
        """Draw this request's faults. ``extra`` are the request's own (header) rules."""
        active = [r for r in (*self.rules, *extra) if r.applies(dialect, role, model)]
        if not active:
            return NO_FAULT
        d = Decision()
        for rule in active:
            if rule.kind == "quota":
                if role == "create":
                    self._spend_quota(rule, d, dialect, owner, now)
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            p = rule.params
            if rule.kind == "latency":
                d.latency_s += self._latency_ms(p) / 1000
            elif rule.kind == "error":
                d.error_status = int(p.get("status", 500))
            elif rule.kind == "rate_limit":
                d.retry_after = p.get("retry_after", 1.0)
            elif rule.kind == "drop":
                d.drop = True
            elif rule.kind == "truncate":
                d.keep = p.get("keep", 0.5)
            elif rule.kind == "slow_download" and role == "download":
                d.bytes_per_s = int(p.get("bytes_per_s", 65536))
            elif rule.kind == "fail_after" and role == "create":
                d.fail_after = p.get("after", 2.0)
            elif rule.kind == "filtered_empty" and role == "create":
                d.filtered_empty = True
            elif rule.kind in ("download_redirect", "redirect_needs_key") and role == "download":
                d.redirect = True
                d.redirect_needs_key = d.redirect_needs_key or rule.kind == "redirect_needs_key"
        return d

    def _latency_ms(self, p: dict[str, float]) -> float:
        if "dist" not in p:
            return min(p["ms"], _MAX_LATENCY_MS)
        dist = ("uniform", "normal", "exponential")[int(p["dist"])]
        if dist == "uniform":
            low = p.get("min", 0.0)
            value = self._rng.uniform(low, max(low, p.get("max", low)))
        elif dist == "normal":
            value = self._rng.gauss(p.get("mean", 100.0), p.get("sd", 0.0))
        else:
            value = self._rng.expovariate(1 / p["mean"]) if p.get("mean") else 0.0
        return min(max(value, 0.0), _MAX_LATENCY_MS)

    def _spend_quota(self, rule: FaultRule, d: Decision, dialect: str, owner: str, now: float) -> None:
        limit, window = int(rule.params.get("limit", 10)), rule.params.get("window", 60.0)
        spent = self._quota.setdefault((dialect, owner), deque())
        while spent and spent[0] <= now - window:
            spent.popleft()
        if len(spent) >= limit:
            wait = (spent[0] + window - now) if spent else window
            d.retry_after = max(d.retry_after or 0.0, wait)
        else:
            spent.append(now)
