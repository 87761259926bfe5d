"""``python -m mockserver check``: validate dialect documents as OpenAPI 3.1 and as x-videogen."""

from __future__ import annotations

import sys
from pathlib import Path

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from videogen.dialect import bundled_specs_dir, load_dialect

__all__ = ["check_specs"]


def check_specs(folder: Path | None) -> int:
    """Print one line per document; 0 when every document is valid, 1 otherwise."""
    folder = folder or bundled_specs_dir()
    failures = 0
    for path in sorted(folder.glob("*.yaml")):
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
