"""Which documented operation a URL targets: the paths of a dialect, compiled once.

Path parameters never span '/', as in OpenAPI; a handle with slashes is matched by
the expanded template the document writes for it.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from videogen.dialect import Dialect, Operation

__all__ = ["Routes"]


def _compile(template: str) -> re.Pattern[str]:
    out, pos = "", 0
    for m in re.finditer(r"\{([^{}/]+)\}", template):
        out += re.escape(template[pos : m.start()]) + f"(?P<{_group(m.group(1))}>[^/]+)"
        pos = m.end()
    return re.compile(out + re.escape(template[pos:]))


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


class Routes:
    """Matches ``(method, url)`` under a base URL to a documented operation and its path parameters."""

    def __init__(self, dialect: Dialect, base_url: str) -> None:
        self.base_path = urlsplit(base_url).path.rstrip("/")
        self.base_url = base_url.rstrip("/")
        self._routes = [(_compile(op.path), op) for op in dialect.operations]

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
        for pattern, op in self._routes:
            m = pattern.fullmatch(path)
            if m and op.method == method.upper():
                names = {_group(p["name"]): p["name"] for p in op.parameters if p["in"] == "path"}
                return op, {names.get(k, k): unquote(v) for k, v in m.groupdict().items()}
        return None
