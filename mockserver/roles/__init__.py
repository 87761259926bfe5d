"""What each ``x-videogen`` role does with a validated request: one module per role.

A handler is ``async (endpoint, call) -> Response``; it reads the call's parsed
request, asks the simulator and the store, and raises
:class:`~mockserver.errors.VendorError` for anything the vendor answers with an error.
"""

from __future__ import annotations

from mockserver.roles.create import create
from mockserver.roles.download import download
from mockserver.roles.listing import listing
from mockserver.roles.poll import poll, undocumented
from mockserver.roles.static import static
from mockserver.roles.terminate import terminate

__all__ = ["HANDLERS"]

HANDLERS = {
    "create": create,
    "poll": poll,
    "download": download,
    "list": listing,
    "delete": terminate,
    "cancel": terminate,
    "static": static,
    None: undocumented,
}
