"""What one run is asked to do, checked before the first request (bad values exit with code 2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from videogen.dialect import Dialect, bundled_specs_dir, load_dialect
from videogen.errors import ConfigError

__all__ = ["RunConfig", "resolve_spec"]


@dataclass(frozen=True)
class RunConfig:
    """Options of a run; the defaults suit a real vendor (slow, paid, rate-limited)."""

    spec: str | Path | Dialect
    base_url: str
    api_key: str
    other_api_key: str | None = None
    max_creates: int = 2
    timeout: float = 600.0  # longest wait for one operation to finish, in seconds
    rate_limit: float = 2.0  # requests per second; 0 means no limit
    poll_interval: float = 5.0  # first wait between polls; grows by half each time
    max_poll_interval: float = 30.0
    failure_suffix: str | None = None  # appended to a prompt to ask the target for a failure
    fuzz_examples: int = 8  # generated inputs per operation and mode
    max_invalid_creates: int = 24
    request_timeout: float = 60.0
    webhook_listen: str | None = None  # HOST:PORT of a receiver the kit runs for webhooks and callbacks
    webhook_secret: str | None = None  # the secret the target signs deliveries with
    webhook_wait: float = 30.0  # how long after a job ends its events may take to arrive
    webhook_url: str | None = None  # where the target reaches the receiver (default http://HOST:PORT/)
    max_download_bytes: int = 256 * 1024 * 1024  # the most the kit reads of one answer (a result clip included)
    budget: float | None = None  # the whole run's wall time; None: derived, see run_budget
    max_silent: int = 3  # requests in a row with no answer after which the target counts as gone

    @property
    def run_budget(self) -> float:
        """The whole run's budget in seconds: ``--budget``, else ``--timeout`` for the jobs, ``--webhook-wait``
        for their events, and ten minutes for everything free (probes, fuzzing, paced by ``--rate-limit``)."""
        return self.budget if self.budget is not None else self.timeout + self.webhook_wait + 600.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"--base-url must look like 'http://host:port/dialect-root', got {self.base_url!r}")
        if not self.api_key.strip():
            raise ConfigError("--api-key must not be empty")
        for option, key in (("--api-key", self.api_key), ("--other-api-key", self.other_api_key or "")):
            bad = next((i for i, ch in enumerate(key) if not " " < ch < "\x7f"), None)
            if bad is not None:
                raise ConfigError(
                    f"{option} holds {key[bad]!r} at position {bad + 1}: a key travels in an HTTP header or URL, so it is printable "
                    "ASCII without spaces. Was a placeholder such as '…' pasted as is? Pass the key the vendor issued"
                )
        if self.other_api_key is not None and (not self.other_api_key.strip() or self.other_api_key == self.api_key):
            raise ConfigError("--other-api-key must be a second, different, non-empty key")
        if self.max_creates < 0:
            raise ConfigError(f"--max-creates must be 0 or more, got {self.max_creates}")
        if not self.timeout > 0:
            raise ConfigError(f"--timeout must be a number of seconds > 0, got {self.timeout}")
        if self.rate_limit < 0:
            raise ConfigError(f"--rate-limit must be requests per second >= 0 (0: no limit), got {self.rate_limit}")
        if not 0 < self.poll_interval <= self.max_poll_interval:
            raise ConfigError(f"--poll-interval must be > 0 and <= {self.max_poll_interval}, got {self.poll_interval}")
        if self.fuzz_examples < 0 or self.max_invalid_creates < 0:
            raise ConfigError("fuzz_examples and max_invalid_creates must be 0 or more")
        if self.webhook_listen is not None:
            host, sep, port = self.webhook_listen.rpartition(":")
            if not sep or not host or not port.isascii() or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ConfigError(f"--webhook-listen must look like '127.0.0.1:8765' (HOST:PORT), got {self.webhook_listen!r}")
        if not self.webhook_wait > 0:
            raise ConfigError(f"--webhook-wait must be a number of seconds > 0, got {self.webhook_wait}")
        if self.max_download_bytes < 1024:
            raise ConfigError(f"--max-download-bytes must be at least 1024, got {self.max_download_bytes}")
        if self.budget is not None and not self.budget > 0:
            raise ConfigError(f"--budget must be a number of seconds > 0, got {self.budget}")
        if not self.request_timeout > 0:
            raise ConfigError(f"--request-timeout must be a number of seconds > 0, got {self.request_timeout}")

    @property
    def secrets(self) -> dict[str, str]:
        out = {self.api_key: "API_KEY"}
        if self.other_api_key:
            out[self.other_api_key] = "OTHER_API_KEY"
        return out


def resolve_spec(spec: str | Path | Dialect) -> Dialect:
    """A bundled dialect by name (``tokenops``) or a YAML document by path."""
    if isinstance(spec, Dialect):
        return spec
    text = str(spec)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.exists() or "/" in text:
        if not path.is_file():
            raise ConfigError(f"--spec {text!r}: no such file (expected a bundled name or a path to a YAML document)")
        return load_dialect(path)
    bundled = bundled_specs_dir()
    candidate = bundled / f"{text}.yaml"
    if not candidate.is_file():
        names = ", ".join(sorted(p.stem for p in bundled.glob("*.yaml") if not p.name.startswith("_")))
        raise ConfigError(f"--spec {text!r} is not a bundled dialect; expected one of: {names}, or a path to a YAML document")
    return load_dialect(candidate)
