"""``python -m mockserver check``: validate dialect documents as OpenAPI 3.1 and as x-videogen.

Exit 0: every document loads; 1: at least one does not (each is named, with the
JSON pointer of its first problem); 2: there is nothing to check (no such folder,
a file instead of a folder, no ``*.yaml`` in it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from videogen.dialect import bundled_specs_dir, dialect_paths, load_dialect
from videogen.errors import SpecError

__all__ = ["check_specs"]


def check_specs(folder: Path | None) -> int:
    """Print one line per document; 0 when every document is valid, 1 otherwise, 2 when there is none."""
    folder = folder or bundled_specs_dir()
    paths = dialect_paths(folder)  # raises SpecError (exit 2) for a missing folder or a file
    if not paths:
        raise SpecError(str(folder), "", "no dialect documents (*.yaml) in this folder; name them <dialect>.yaml")
    failures = 0
    for path in paths:
        try:
            dialect = load_dialect(path)
            validate(dialect.document)
        except OpenAPIValidationError as exc:
            failures += 1
            print(f"FAIL {path.name}: OpenAPI: {exc.message}", file=sys.stderr)
        except Exception as exc:  # every loader error is a SpecError; show anything else too
            failures += 1
            print(f"FAIL {path.name}: {exc}", file=sys.stderr)
        else:
            print(f"ok   {path.name}: {len(dialect.operations)} operations")
    return 1 if failures else 0
