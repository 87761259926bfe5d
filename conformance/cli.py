"""``python -m conformance run ...``: exit 0 conforms, 1 a check failed, 2 no verdict.

Exit 2 covers usage and configuration errors (bad options, an unknown spec, an
unreachable base URL) and, with a traceback, a crash of the kit itself.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from conformance.catalog import CHECKS
from conformance.config import RunConfig
from conformance.html import write_html
from conformance.junit import write_junit
from conformance.terminal import PlainObserver, RichObserver, render
from videogen.errors import VideogenError

__all__ = ["main"]

EXTRA = "pip install 'videogen-mock[conformance]'"  # schemathesis, hypothesis and PyAV
KEY_ENV = "CONFORMANCE_API_KEY"
OTHER_KEY_ENV = "CONFORMANCE_OTHER_API_KEY"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m conformance", description="Judge a video-generation endpoint against its dialect's contract."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("run", help="run every check against one endpoint")
    r.add_argument(
        "--spec", required=True, help="a bundled dialect (the name of a file in specs/, without .yaml) or a path to a dialect YAML"
    )
    r.add_argument("--base-url", required=True, help="the dialect's root, e.g. http://127.0.0.1:8000/<dialect> for the mock")
    r.add_argument("--api-key", default=os.environ.get(KEY_ENV), help=f"the API key (default: ${KEY_ENV})")
    r.add_argument(
        "--other-api-key",
        default=os.environ.get(OTHER_KEY_ENV),
        help=f"a second account's key: turns on isolation checks (default: ${OTHER_KEY_ENV})",
    )
    r.add_argument("--max-creates", type=int, default=2, help="most creates (paid jobs) the run may start (default 2)")
    r.add_argument("--timeout", type=float, default=600.0, help="longest wait for one operation to finish, in seconds (default 600)")
    r.add_argument("--rate-limit", type=float, default=2.0, help="requests per second, 0 for no limit (default 2)")
    r.add_argument("--poll-interval", type=float, default=5.0, help="first wait between polls in seconds; it grows to 30 (default 5)")
    r.add_argument(
        "--failure-suffix", help="text appended to a prompt that makes the target fail a job, e.g. ' [mock:fail]' for videogen-mock"
    )
    r.add_argument("--fuzz-examples", type=int, default=8, help="generated inputs per free operation and mode (default 8)")
    r.add_argument(
        "--webhook-listen",
        metavar="HOST:PORT",
        help="run a receiver for the target's webhooks and callbacks there (its URL goes where the create documents one)",
    )
    r.add_argument("--webhook-url", help="the receiver's URL as the target reaches it (default: http://HOST:PORT/)")
    r.add_argument("--webhook-secret", help="the secret the target signs events with (default: the document's)")
    r.add_argument("--webhook-wait", type=float, default=30.0, help="seconds a job's events may take after it ends (default 30)")
    r.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    r.add_argument(
        "--budget",
        type=float,
        help="the whole run's wall time in seconds; when it runs out the report covers what was seen "
        "(default: --timeout + --webhook-wait + 600)",
    )
    r.add_argument(
        "--request-timeout", type=float, default=60.0, help="wall-clock deadline of one request, answer included, in seconds (default 60)"
    )
    r.add_argument(
        "--max-download-bytes",
        type=int,
        default=256 * 1024 * 1024,
        help="the most the kit reads of one answer, a result clip included; larger ones are cut off and reported (default 256 MiB)",
    )
    r.add_argument("--json", type=Path, help="write a JSON report here")
    r.add_argument("--html", type=Path, help="write a self-contained HTML report here (timelines, posters, repro lines)")
    r.add_argument("--quiet", action="store_true", help="no progress, verdict only")
    commands.add_parser("checks", help="list the check ids")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(stderr=False, highlight=False)
    if args.command == "checks":
        for info in CHECKS.values():
            console.print(f"{info.id:28} {info.title}", markup=False)
        return 0
    error = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        from conformance.runner import run
    except ImportError as exc:  # a base install without the kit's extra
        error.print(f"error: the conformance kit needs {exc.name or 'its extra'}, which is not installed: {EXTRA}", markup=False)
        return 2
    for out in (args.junit, args.json, args.html):
        if out is not None and not out.parent.is_dir():
            error.print(f"error: cannot write {out}: {out.parent} is not a directory", markup=False)
            return 2
    if not args.api_key:
        error.print(f"error: --api-key is required (or set ${KEY_ENV})", markup=False)
        return 2
    try:
        config = RunConfig(
            spec=args.spec,
            base_url=args.base_url,
            api_key=args.api_key,
            other_api_key=args.other_api_key,
            max_creates=args.max_creates,
            timeout=args.timeout,
            rate_limit=args.rate_limit,
            poll_interval=min(args.poll_interval, 30.0),
            failure_suffix=args.failure_suffix,
            fuzz_examples=args.fuzz_examples,
            webhook_listen=args.webhook_listen,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            webhook_wait=args.webhook_wait,
            budget=args.budget,
            request_timeout=args.request_timeout,
            max_download_bytes=args.max_download_bytes,
        )
        if args.quiet:
            report = run(config)
        else:
            # A terminal gets a live display; a pipe or a CI log gets one plain line per phase and state change.
            with RichObserver(console) if console.is_terminal else PlainObserver(console) as observer:
                report = run(config, observer=observer)
    except VideogenError as exc:
        error.print(f"error: {exc}", markup=False)
        return 2
    except Exception:  # a bug in the kit: no verdict, so not exit 1
        error.print("error: the kit could not finish (a bug in the kit; please report it):", markup=False)
        error.print(traceback.format_exc(), markup=False)
        return 2
    if args.quiet:
        print(report.summary())
    else:
        render(report, console)
    if args.junit:
        write_junit(report, args.junit)
    if args.json:
        report.write_json(args.json)
    if args.html:
        write_html(report, args.html)
    return 0 if report.conforms else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
