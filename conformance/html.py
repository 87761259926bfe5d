"""The HTML report: one self-contained page (inline CSS and SVG, images as data: URLs).

It opens anywhere, offline, and can be attached to a CI run: the verdict and the
scores, each failure with what was expected, what came back and the line that
reproduces it, the checks that were skipped and why, and for every job the kit
followed a timeline of its polls (the state each one reported against time, and
how long each took) with the facts and a poster frame of the video it produced.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from conformance.catalog import CATEGORIES, CHECKS, category_of
from conformance.failures import Status
from conformance.report import JobSummary, Media, Report
from videogen.states import READ_STATES

__all__ = ["render_html", "write_html"]

# Timeline lanes, top to bottom: the wire states, then whatever came instead of one.
_LANES = (*READ_STATES, "other")
_COLOURS = {
    "pending": "#8a8f98",
    "queued": "#8a8f98",
    "running": "#2f6fdf",
    "succeeded": "#1f9d55",
    "failed": "#d64545",
    "filtered": "#c27c0e",
    "cancelled": "#6b5bd2",
    "other": "#b02a7a",
}
_SEVERITY = {"critical": "#b00020", "high": "#d64545", "medium": "#c27c0e", "low": "#2f6fdf"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}h3{font-size:15px;margin:0 0 6px}
.meta{color:#5b6270}.verdict{display:inline-block;padding:4px 12px;border-radius:14px;font-weight:600;color:#fff}
.pass{background:#1f9d55}.fail{background:#d64545}
table{border-collapse:collapse;background:#fff;margin:6px 0}td,th{border:1px solid #dde1e7;padding:4px 10px;text-align:left}
th{background:#eef0f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 16px;margin:12px 0}
.failure{border-left:4px solid var(--sev)}.sev{color:var(--sev);font-weight:700;text-transform:uppercase;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f1f3f6;padding:8px;border-radius:6px;margin:4px 0;font-size:12px}
svg.timeline,svg.latency{display:block}.timeline text,.latency text{font-size:11px;fill:#5b6270}
.row{display:flex;gap:18px;flex-wrap:wrap;align-items:flex-start}
img.poster{border:1px solid #dde1e7;border-radius:4px;max-width:320px}.skipped{color:#5b6270}
"""


def write_html(report: Report, path: Path) -> None:
    path.write_text(render_html(report), encoding="utf-8")


def render_html(report: Report) -> str:
    verdict = "conforms" if report.conforms else f"does not conform ({len(report.failures)} failure(s))"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.spec)}: {escape(verdict)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{escape(report.title)}</h1>",
        f'<p class="meta">{escape(report.base_url)} · dialect <b>{escape(report.spec)}</b> · started {escape(report.started_at)}'
        f" · {report.duration_s:.1f} s · {report.requests} requests · creates spent {report.creates_spent} of {report.max_creates}</p>",
        f'<p><span id="verdict" class="verdict {"pass" if report.conforms else "fail"}">{escape(verdict)}</span></p>',
        f'<p id="stopped"><b>Stopped early:</b> {escape(report.stopped)}</p>' if report.stopped else "",
        _scores(report),
        _jobs(report.jobs),
        _failures(report),
        _skipped(report),
    ]
    if report.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{escape(n)}</li>" for n in report.notes) + "</ul>")
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def _scores(report: Report) -> str:
    rows = []
    scores = report.scores()
    for category in CATEGORIES:
        cases = [c for c in report.cases if category_of(c.check) == category]
        judged = sum(c.status is not Status.SKIPPED for c in cases)
        skipped = len(cases) - judged
        score = scores[category]
        shown = "n/a" if score is None else f"{score:.1f}%"
        rows.append(f'<tr><td>{category}</td><td class="num">{shown}</td><td class="num">{judged}</td><td class="num">{skipped}</td></tr>')
    overall = "n/a" if report.score is None else f"{report.score:.1f}%"
    rows.append(f'<tr><th>overall</th><th class="num">{overall}</th><th></th><th></th></tr>')
    return (
        '<h2>Scores</h2><table id="scores"><tr><th>category</th><th>score</th><th>judged</th><th>skipped</th></tr>'
        + "".join(rows)
        + "</table>"
    )


def _jobs(jobs: tuple[JobSummary, ...]) -> str:
    if not jobs:
        return "<h2>Jobs</h2><p>No job was created.</p>"
    return "<h2>Jobs</h2>" + "".join(_job(job) for job in jobs)


def _job(job: JobSummary) -> str:
    final = job.final or "unfinished"
    head = (
        f"<h3>{escape(job.label)} · {escape(job.purpose)} · ended <b>{escape(final)}</b></h3>"
        f'<p class="meta">handle <code>{escape(job.handle)}</code> · create answered in {job.create_ms:.0f} ms · {len(job.polls)} polls</p>'
    )
    media = "".join(_media(m) for m in job.media)
    body = f'<div class="row">{_timeline(job)}{media}</div>{_poll_table(job)}'
    return f'<section class="card job" data-job="{escape(job.label)}">{head}{body}</section>'


def _timeline(job: JobSummary) -> str:
    """States against time (a step line through each poll), and each poll's latency below it."""
    width, left, right, lane_h, top = 560, 78, 16, 22, 10
    lanes = [lane for lane in _LANES if any(_lane(p.state) == lane for p in job.polls)] or ["queued"]
    height = top + lane_h * len(lanes) + 28
    end = max((p.at_s for p in job.polls), default=0.0) or 1.0

    def x(t: float) -> float:
        return left + (width - left - right) * t / end

    def y(state: str) -> float:
        return top + lane_h * lanes.index(_lane(state)) + lane_h / 2

    out = [f'<svg class="timeline" role="img" aria-label="{escape(job.label)} states over time" width="{width}" height="{height}">']
    for lane in lanes:
        ly = top + lane_h * lanes.index(lane) + lane_h / 2
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{ly}" y2="{ly}" stroke="#eceef2"/>')
        out.append(f'<text x="{left - 6}" y="{ly + 4}" text-anchor="end">{lane}</text>')
    bottom = top + lane_h * len(lanes)
    out.append(f'<line class="create" x1="{x(0)}" x2="{x(0)}" y1="{top}" y2="{bottom}" stroke="#1d2330" stroke-dasharray="3 3">')
    out.append(f"<title>create answered in {job.create_ms:.0f} ms</title></line>")
    points = [(x(p.at_s), y(p.state)) for p in job.polls]
    if len(points) > 1:
        path = f"M{points[0][0]:.1f} {points[0][1]:.1f}" + "".join(f" H{px:.1f} V{py:.1f}" for px, py in points[1:])
        out.append(f'<path d="{path}" fill="none" stroke="#9aa3b2" stroke-width="1.5"/>')
    for poll, (px, py) in zip(job.polls, points, strict=True):
        colour = _COLOURS[_lane(poll.state)]
        tip = f"{poll.at_s:.1f} s: {poll.state} ({poll.latency_ms:.0f} ms)"
        out.append(f'<circle class="poll" cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}"><title>{escape(tip)}</title></circle>')
    axis_y = top + lane_h * len(lanes) + 6
    for tick in _ticks(end):
        out.append(f'<text x="{x(tick):.1f}" y="{axis_y + 12}" text-anchor="middle">{tick:g} s</text>')
    out.append("</svg>")
    return "<div>" + "".join(out) + _latency(job, width, left, right) + "</div>"


def _latency(job: JobSummary, width: int, left: int, right: int) -> str:
    height, top = 70, 8
    slowest = max((p.latency_ms for p in job.polls), default=0.0) or 1.0
    bar = (width - left - right) / max(len(job.polls), 1)
    out = [f'<svg class="latency" role="img" aria-label="{escape(job.label)} poll latency" width="{width}" height="{height + 16}">']
    out.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{slowest:.0f} ms</text>')
    out.append(f'<text x="{left - 6}" y="{top + height - 2}" text-anchor="end">latency</text>')
    for i, poll in enumerate(job.polls):
        h = max(1.0, (height - top) * poll.latency_ms / slowest)
        bx = left + i * bar
        out.append(
            f'<rect x="{bx + 1:.1f}" y="{top + height - top - h:.1f}" width="{max(bar - 2, 1):.1f}" height="{h:.1f}" '
            f'fill="{_COLOURS[_lane(poll.state)]}" opacity="0.75"><title>poll {i + 1}: {poll.latency_ms:.1f} ms</title></rect>'
        )
    out.append("</svg>")
    return "".join(out)


def _poll_table(job: JobSummary) -> str:
    if not job.polls:
        return ""
    gaps = [b.at_s - a.at_s for a, b in zip(job.polls, job.polls[1:], strict=False)]
    rows = "".join(
        f'<tr><td class="num">{i + 1}</td><td class="num">{p.at_s:.2f}</td><td class="num">{"" if i == 0 else f"{gaps[i - 1]:.2f}"}</td>'
        f'<td>{escape(p.state)}</td><td class="num">{p.latency_ms:.1f}</td></tr>'
        for i, p in enumerate(job.polls)
    )
    return (
        "<details><summary>every poll</summary><table><tr><th>#</th><th>at (s)</th><th>gap (s)</th><th>state</th>"
        f"<th>latency (ms)</th></tr>{rows}</table></details>"
    )


def _media(media: Media) -> str:
    if media.poster:
        source = "data:image/png;base64," + base64.b64encode(media.poster).decode()
        poster = f'<img class="poster" alt="poster frame of result #{media.index}" src="{source}">'
    else:
        poster = "<p>(no frame decoded)</p>"
    facts = (
        f'<table class="media"><tr><th colspan="2">result #{media.index}</th></tr>'
        f'<tr><td>size</td><td class="num">{media.size:,} bytes</td></tr><tr><td>codec</td><td>{escape(media.codec)}</td></tr>'
        f'<tr><td>frame</td><td class="num">{media.width}x{media.height}</td></tr>'
        f'<tr><td>duration</td><td class="num">{media.duration_s:.2f} s</td></tr>'
        f'<tr><td>frames</td><td class="num">{media.frames}</td></tr></table>'
    )
    return f"<div>{poster}{facts}</div>"


def _failures(report: Report) -> str:
    by_check = report.failures_by_check()
    if not by_check:
        return "<h2>Failures</h2><p>None.</p>"
    out = ["<h2>Failures</h2>"]
    for check, failures in by_check.items():
        out.append(f"<h3>{escape(check)}: {escape(CHECKS[check].title)}</h3>")
        for f in failures:
            times = f" (x{f.occurrences})" if f.occurrences > 1 else ""
            repro = f"<div>repro:</div><pre>{escape(f.curl)}</pre>" if f.curl else ""
            out.append(
                f'<div class="card failure" style="--sev:{_SEVERITY[f.severity.value]}"><span class="sev">{f.severity.value}</span> '
                f"<b>{escape(f.target)}</b>: {escape(f.title)}{times}"
                f"<div>expected:</div><pre>{escape(f.expected)}</pre><div>got:</div><pre>{escape(f.got)}</pre>{repro}</div>"
            )
    return "".join(out)


def _skipped(report: Report) -> str:
    skipped = [c for c in report.cases if c.status is Status.SKIPPED]
    if not skipped:
        return ""
    items = "".join(f"<li><b>{escape(c.check)}</b> {escape(c.target)}: {escape(c.note)}</li>" for c in skipped)
    return f'<h2>Skipped</h2><ul class="skipped">{items}</ul>'


def _lane(state: str) -> str:
    return state if state in READ_STATES else "other"


def _ticks(end: float) -> list[float]:
    step = next((s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if end / s <= 8), 1200)
    count = int(end / step) + 1
    return [round(i * step, 3) for i in range(count)]
