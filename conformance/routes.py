"""Which documented operation a URL targets, by the dialect's own router (:mod:`videogen.paths`)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from videogen.dialect import Dialect, Operation

__all__ = ["Routes"]


class Routes:
    """Matches ``(method, url)`` under a base URL to a documented operation and its path parameters."""

    def __init__(self, dialect: Dialect, base_url: str) -> None:
        self.dialect = dialect
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self.base_url = base_url.rstrip("/")

    def relative(self, url: str) -> str | None:
        """The path of ``url`` relative to the base URL, or None when it lies elsewhere."""
        if url.startswith(("http://", "https://")):
            if not (url == self.base_url or url.startswith(self.base_url + "/")):
                return None
            path = urlsplit(url).path
            return path[len(self.base_path) :] or "/"
        return urlsplit(url).path or "/"

    def match(self, method: str, url: str) -> tuple[Operation, dict[str, str]] | None:
        path = self.relative(url)
        if path is None:
            return None
        routed = self.dialect.router.match(method.upper(), path)
        if routed.target is None or routed.params is None:
            return None
        return routed.target, {k: unquote(v) for k, v in routed.params.items()}
