"""``python -m mockserver``: serve the mock, or check dialect documents.

python -m mockserver serve [--host 127.0.0.1] [--port 8000] [--specs DIR]
                           [--time-scale F] [--seed N] [--api-key KEY ...]
                           [--store URL] [--workers N] [--public-url URL]
python -m mockserver check [--specs DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from mockserver.config import MockConfig
from mockserver.server import BoundedHttpToolsProtocol, configure
from videogen.errors import VideogenError

__all__ = ["app_from_env", "build_parser", "main"]

_ENV = "VIDEOGEN_MOCK_CONFIG"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mockserver", description="Stateful mock of video-generation APIs.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve every dialect under /<dialect>")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--specs", type=Path, default=None, help="folder of dialect YAML files (default: bundled)")
    serve.add_argument("--time-scale", type=float, default=1.0, help="multiply lifecycle durations (0.1 = ten times faster, 0 = instant)")
    serve.add_argument("--seed", type=int, default=None, help="make ids and outcomes reproducible")
    serve.add_argument("--api-key", action="append", default=[], help="accept only these keys (repeatable; default: any non-empty key)")
    serve.add_argument("--store", default="memory", help="memory | sqlite:///path.db | redis://host:port/db")
    serve.add_argument(
        "--store-durability",
        choices=["strict", "relaxed"],
        default="strict",
        help="strict (default): refuse a Redis that can lose an answered create on a crash (it needs appendonly yes and "
        "appendfsync always); relaxed: accept that",
    )
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (needs a shared store: sqlite or redis)")
    serve.add_argument("--public-url", default=None, help="base URL put in result links (default: taken from each request)")
    serve.add_argument("--control-token", default=None, help="require this token on /_mock/ and open it beyond loopback")
    serve.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024, help="larger request bodies get the vendor's 413")
    serve.add_argument("--max-header-bytes", type=int, default=16 * 1024, help="larger request headers get the vendor's 400")
    serve.add_argument(
        "--header-timeout", type=float, default=10.0, help="close a connection whose request head takes longer (default 10 s)"
    )
    serve.add_argument("--body-timeout", type=float, default=60.0, help="close a connection whose request body takes longer (default 60 s)")
    serve.add_argument(
        "--max-operations",
        type=int,
        default=1_000_000,
        help="the memory store keeps at most this many operations (about 500 bytes each); more creates get the vendor's 429",
    )
    serve.add_argument(
        "--max-input-bytes",
        type=int,
        default=64 * 1024,
        help="inputs an operation keeps (the prompt above all); larger get the vendor's 413",
    )
    serve.add_argument(
        "--fault", action="append", default=[], metavar="SPEC", help="inject a fault, e.g. 'error:status=503,rate=0.1,op=poll' (repeatable)"
    )
    serve.add_argument(
        "--faults", type=Path, default=None, metavar="PROFILE", help="YAML fault profile: {seed: N, faults: [{kind: ..., ...}]}"
    )
    serve.add_argument("--access-log", action="store_true", help="log one JSON line per request (API keys redacted)")
    serve.add_argument(
        "--no-exchanges",
        dest="exchanges",
        action="store_false",
        help="do not keep each operation's last requests and answers for the inspector (a load test's few percent)",
    )
    serve.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        metavar="[DIALECT=]URL",
        help="send the webhooks of DIALECT (default: of every dialect that has webhooks) to URL (repeatable)",
    )
    serve.add_argument("--webhook-secret", default=None, help="sign webhooks with this secret instead of each dialect's default")
    serve.add_argument(
        "--webhook-lease", type=float, default=30.0, help="seconds a worker holds a claimed delivery before another may retry it"
    )
    serve.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    check = sub.add_parser("check", help="load and validate dialect documents, then exit")
    check.add_argument("--specs", type=Path, default=None)
    return parser


def _config_from(args: argparse.Namespace) -> dict[str, Any]:
    from mockserver.faults import load_profile, parse_compact

    fault_seed, rules = load_profile(args.faults) if args.faults else (None, [])
    for spec in args.fault:
        rules.extend(parse_compact(spec, f"--fault {spec!r}"))
    return {
        "specs_dir": str(args.specs) if args.specs else None,
        "time_scale": args.time_scale,
        "seed": args.seed,
        "api_keys": list(args.api_key),
        "max_body_bytes": args.max_body_bytes,
        "max_header_bytes": args.max_header_bytes,
        "max_operations": args.max_operations,
        "header_timeout_s": args.header_timeout,
        "body_timeout_s": args.body_timeout,
        "max_input_bytes": args.max_input_bytes,
        "public_url": args.public_url,
        "control_token": args.control_token,
        "control_loopback_only": args.control_token is None,
        "store": args.store,
        "faults": [rule.to_dict() for rule in rules],
        "fault_seed": fault_seed,
        "access_log": args.access_log,
        "exchanges": args.exchanges,
        "webhook_urls": [_webhook_url(text) for text in args.webhook_url],
        "webhook_secret": args.webhook_secret,
        "webhook_lease_s": args.webhook_lease,
    }


def _webhook_url(text: str) -> tuple[str | None, str]:
    name, sep, url = text.partition("=")
    if sep and not name.startswith(("http:", "https:")):
        return name, url
    return None, text


def bound_connections(config: MockConfig) -> None:
    """The HTTP layer's limits for this process (each worker calls it before it serves)."""
    configure(max_header_bytes=config.max_header_bytes, header_timeout_s=config.header_timeout_s, body_timeout_s=config.body_timeout_s)


def app_from_env() -> Starlette:
    """The app for uvicorn's ``factory=True`` (one call per worker process)."""
    from mockserver.app import create_app
    from mockserver.faults import FaultRule
    from mockserver.store import open_store

    raw = json.loads(os.environ[_ENV])
    store_url = raw.pop("store")
    raw["specs_dir"] = Path(raw["specs_dir"]) if raw["specs_dir"] else None
    raw["api_keys"] = frozenset(raw["api_keys"])
    raw["faults"] = tuple(FaultRule.from_dict(r) for r in raw["faults"])
    raw["webhook_urls"] = tuple((name, url) for name, url in raw["webhook_urls"])
    if raw["seed"] is not None and os.environ.get("VIDEOGEN_MOCK_WORKERS", "1") != "1":
        raw["seed"] = raw["seed"] * 1_000_003 + os.getpid()  # distinct id streams per worker
    config = MockConfig(**raw)
    bound_connections(config)
    return create_app(config=config, store=open_store(store_url, max_operations=config.max_operations))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "check":
            from mockserver.speccheck import check_specs

            return check_specs(args.specs)
        return _serve(args)
    except VideogenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mockserver.store import open_store

    if args.workers < 1:
        print(f"error: --workers must be 1 or more, got {args.workers}", file=sys.stderr)
        return 2
    if args.workers > 1 and args.store in ("memory", "", "memory://"):
        print("error: --workers > 1 needs a shared store: --store sqlite:///mock.db or --store redis://127.0.0.1:6379/0", file=sys.stderr)
        return 2
    config = _config_from(args)
    # Validate everything now, in this process, so a bad option fails before uvicorn starts.
    MockConfig(
        **{k: v for k, v in config.items() if k not in ("store", "faults", "webhook_urls")}
        | {"specs_dir": args.specs, "api_keys": frozenset(args.api_key), "webhook_urls": tuple(config["webhook_urls"])}
    )
    open_store(args.store)  # raises ConfigError for a malformed --store URL
    if args.store.startswith(("redis://", "rediss://", "unix://")) and args.store_durability == "strict":
        from mockserver.store.redis import check_durability

        check_durability(args.store)  # an answered create must survive kill -9 of the Redis server
    os.environ[_ENV] = json.dumps(config)
    os.environ["VIDEOGEN_MOCK_WORKERS"] = str(args.workers)
    from videogen.dialect import load_dialects

    names = [d.name for d in load_dialects(args.specs)]
    print(f"videogen-mock: serving {', '.join(names)} on http://{args.host}:{args.port}/<dialect> (store: {args.store})", file=sys.stderr)
    uvicorn.run(
        "mockserver.cli:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
        http=BoundedHttpToolsProtocol,
    )
    return 0
