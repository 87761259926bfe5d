"""Server configuration, kept apart from the server (as uvicorn does).

Every option is checked here, at start-up, so that a bad value fails with a
message showing the expected form instead of surfacing on the first request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mockserver.faults import FaultRule
from videogen.errors import ConfigError

__all__ = ["MockConfig"]


@dataclass(frozen=True)
class MockConfig:
    specs_dir: Path | None = None  # None: the bundled specs
    time_scale: float = 1.0  # multiplies every lifecycle duration; 0 finishes at once
    seed: int | None = None  # makes ids and outcomes reproducible
    api_keys: frozenset[str] = field(default_factory=frozenset)  # empty: any non-empty key
    max_body_bytes: int = 8 * 1024 * 1024
    max_header_bytes: int = 16 * 1024  # all request header names and values together
    header_timeout_s: float = 10.0  # a request's head must arrive within this (from connect, or the last answer)
    body_timeout_s: float = 60.0  # and its body within this once the head is in
    max_operations: int = 1_000_000  # the memory store holds this many (about 500 bytes each); beyond, the vendor's 429
    max_input_bytes: int = 64 * 1024  # the inputs a record keeps (the prompt above all); beyond, the vendor's 413
    public_url: str | None = None  # base URL used in result links; default: from the request
    control_token: str | None = None  # required by /_mock/ when set
    control_loopback_only: bool = True  # without a token, /_mock/ answers loopback clients only
    faults: tuple[FaultRule, ...] = ()  # active from start-up (see mockserver.faults)
    fault_seed: int | None = None  # default: seed
    access_log: bool = False  # one JSON line per request on the "videogen.access" logger, keys redacted
    exchanges: bool = True  # keep each operation's last request and answer of each kind for the inspector
    # Where out-of-band webhooks go: (dialect, URL) pairs, dialect None for every dialect that has webhooks.
    webhook_urls: tuple[tuple[str | None, str], ...] = ()
    webhook_secret: str | None = None  # signs webhooks instead of each dialect's default secret
    webhook_lease_s: float = 30.0  # how long a worker holds a claimed delivery before another may retry it

    def __post_init__(self) -> None:
        if not self.time_scale >= 0:
            raise ConfigError(f"time_scale must be a number >= 0 (1 = real time, 0.1 = ten times faster), got {self.time_scale!r}")
        if self.max_header_bytes < 1024:
            raise ConfigError(f"max_header_bytes must be at least 1024, got {self.max_header_bytes!r}")
        if not (self.header_timeout_s > 0 and self.body_timeout_s > 0):
            raise ConfigError("--header-timeout and --body-timeout must be numbers of seconds > 0")
        if self.max_operations < 1:
            raise ConfigError(f"--max-operations must be 1 or more, got {self.max_operations!r}")
        if self.max_input_bytes < 1024:
            raise ConfigError(f"--max-input-bytes must be at least 1024, got {self.max_input_bytes!r}")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes must be at least 1024, got {self.max_body_bytes!r}")
        if self.control_token is not None and not self.control_token.strip():
            raise ConfigError(
                "--control-token is empty (an unset variable?): an empty token would open the control API to every client; "
                "pass a real token, or leave the option out to keep the control API on loopback"
            )
        if any(not k.strip() for k in self.api_keys):
            raise ConfigError("api_keys must not contain empty keys")
        if self.specs_dir is not None and not Path(self.specs_dir).is_dir():
            raise ConfigError(f"specs_dir {str(self.specs_dir)!r} is not a directory")
        if self.public_url is not None and not self.public_url.startswith(("http://", "https://")):
            raise ConfigError(f"public_url must look like 'http://host:port', got {self.public_url!r}")
        for _, url in self.webhook_urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"--webhook-url must look like '[DIALECT=]http://host:port/path', got {url!r}")
        if not 1 <= self.webhook_lease_s <= 3600:
            raise ConfigError(f"--webhook-lease must be from 1 to 3600 seconds, got {self.webhook_lease_s!r}")
        if self.webhook_secret is not None and len(self.webhook_secret) < 8:
            raise ConfigError("--webhook-secret must be at least 8 characters (a 'whsec_<base64>' secret, or any string)")

    def endpoints(self, dialect: str) -> list[str]:
        """The webhook URLs configured for ``dialect``."""
        return [url for name, url in self.webhook_urls if name in (None, dialect)]
