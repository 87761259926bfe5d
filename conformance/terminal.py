"""The terminal: progress while the kit polls, then the verdict, scores and failures by check."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from conformance.catalog import CHECKS, category_of
from conformance.failures import Severity, Status
from conformance.report import Report

__all__ = ["PlainObserver", "RichObserver", "render"]

_COLOURS = {Severity.CRITICAL: "bold red", Severity.HIGH: "red", Severity.MEDIUM: "yellow", Severity.LOW: "cyan"}


class RichObserver:
    """Shows the current phase and one line per created operation with its latest state."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[bold]{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self._phase: TaskID | None = None
        self._jobs: dict[str, TaskID] = {}

    def __enter__(self) -> RichObserver:
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def phase(self, name: str) -> None:
        if self._phase is None:
            self._phase = self.progress.add_task("phase", total=None, state=name)
        else:
            self.progress.update(self._phase, state=name)

    def job(self, label: str, state: str, elapsed: float) -> None:
        if label not in self._jobs:
            self._jobs[label] = self.progress.add_task(f"  {label}", total=None, state=state)
        else:
            self.progress.update(self._jobs[label], state=f"{state} ({elapsed:.0f} s)")


class PlainObserver:
    """For a pipe or a CI log: one line per phase and per change of a job's state, with the time since the start."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._started = time.monotonic()
        self._states: dict[str, str] = {}

    def __enter__(self) -> PlainObserver:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def _line(self, text: str) -> None:
        self.console.print(f"[{time.monotonic() - self._started:7.1f} s] {text}", markup=False, highlight=False, soft_wrap=True)

    def phase(self, name: str) -> None:
        self._line(f"phase: {name}")

    def job(self, label: str, state: str, elapsed: float) -> None:
        if self._states.get(label) != state:
            self._states[label] = state
            self._line(f"{label}: {state}" + (f" after {elapsed:.0f} s" if elapsed else ""))


def render(report: Report, console: Console) -> None:
    verdict = "[bold green]conforms[/]" if report.conforms else f"[bold red]does not conform[/] ({len(report.failures)} failure(s))"
    console.print(f"[bold]{escape(report.title)}[/] at {escape(report.base_url)} (dialect {escape(report.spec)}): {verdict}")
    if report.stopped:
        console.print(f"[bold red]stopped early:[/] {escape(report.stopped)}")
    table = Table(title="conformance score", show_edge=False)
    table.add_column("category")
    table.add_column("score", justify="right")
    table.add_column("skipped", justify="right")
    skipped = [c for c in report.cases if c.status is Status.SKIPPED]
    for category, score in report.scores().items():
        count = sum(category_of(c.check) == category for c in skipped)
        table.add_row(category, "n/a" if score is None else f"{score:.1f}%", str(count) if count else "")
    table.add_row("[bold]overall", "n/a" if report.score is None else f"[bold]{report.score:.1f}%", str(len(skipped) or ""))
    console.print(table)
    for check, failures in report.failures_by_check().items():
        console.rule(f"[bold]{check}[/]: {escape(CHECKS[check].title)}", align="left")
        for f in failures:
            times = f" (x{f.occurrences})" if f.occurrences > 1 else ""
            console.print(f"[{_COLOURS[f.severity]}]{f.severity.value.upper()}[/] {escape(f.target)}: {escape(f.title)}{times}")
            console.print(f"  expected: {escape(f.expected)}")
            console.print(f"  got:      {escape(f.got)}")
            if f.curl:
                console.print(f"  repro:    {escape(f.curl)}", soft_wrap=True)
    extra = f", {report.unexpected_creates} of them invalid creates the server accepted" if report.unexpected_creates else ""
    console.print(
        f"creates spent: {report.creates_spent} of {report.max_creates}{extra}; requests: {report.requests}; {report.duration_s:.1f} s"
    )
    for case in skipped:
        console.print(f"[dim]skipped {escape(case.check)} {escape(case.target)}: {escape(case.note)}[/]")
    for note in report.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
