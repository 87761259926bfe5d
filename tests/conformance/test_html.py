"""The HTML report, rendered by a real browser: Debian's Chromium, headless.

The page must be self-contained (it is opened from CI artifacts, offline), and
what a reader needs must be in what the browser renders, not only in the source:
the verdict, one timeline per job with one mark per poll, the poster frames, each
failure's repro line.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.html import render_html, write_html
from conformance.report import Report
from tests.conformance.conftest import DIALECTS, run_kit
from tests.conformance.corpus import BUGS

pytestmark = pytest.mark.slow

WINDOW = (1200, 2400)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    return found


def browse(page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args, page.resolve().as_uri()]
    return subprocess.run(argv, capture_output=True, timeout=120, check=True)


class Elements(HTMLParser):
    """Every element of a document as (tag, attributes), in order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))

    def having(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [a for t, a in self.found if t == tag and (cls is None or cls in a.get("class", "").split())]


@pytest.fixture(scope="module")
def report() -> Report:
    """A run that has everything to show: a success with a video, a failure, and a real finding."""
    bug = next(b for b in BUGS if b.id == "wrong-content-type")
    return run_kit(bug.dialect, bug.make(DIALECTS[bug.dialect]), max_creates=3, failure_suffix=" [mock:fail]")


def test_the_page_is_self_contained(report: Report) -> None:
    page = render_html(report)
    links = [v for _, attrs in Elements(page).found for k, v in attrs.items() if k in ("src", "href", "srcset", "data")]
    assert links and all(v.startswith(("data:", "#")) for v in links), "every resource is inline"
    assert "<script" not in page and "@import" not in page and "url(" not in page
    assert page.count('class="card job"') == len(report.jobs) >= 2


def test_the_browser_renders_the_verdict_a_timeline_per_job_and_the_posters(report: Report, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    write_html(report, page)
    dom = Elements(browse(page, "--dump-dom").stdout.decode())
    (verdict,) = dom.having("span", "verdict")
    assert "fail" in verdict["class"].split()
    rendered = browse(page, "--dump-dom").stdout.decode()
    assert re.search(r'id="verdict"[^>]*>does not conform \(\d+ failure', rendered)
    jobs = dom.having("section", "job")
    assert [j["data-job"] for j in jobs] == [j.label for j in report.jobs]
    assert len(dom.having("svg", "timeline")) == len(report.jobs)
    assert len(dom.having("circle", "poll")) == sum(len(j.polls) for j in report.jobs) > 0
    posters = dom.having("img", "poster")
    assert len(posters) == sum(len(j.media) for j in report.jobs) >= 1
    assert all(p["src"].startswith("data:image/png;base64,") for p in posters)
    assert "response.content_type" in rendered and "curl -sS" in rendered


def test_the_screenshot_is_a_whole_page(report: Report, tmp_path: Path) -> None:
    page, shot = tmp_path / "report.html", tmp_path / "report.png"
    write_html(report, page)
    browse(page, f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == WINDOW
    assert len(data) > 30_000, "a page of text, tables and charts, not a blank screen"


def test_the_cli_writes_the_page(report: Report, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", "--spec", "gemini", "--base-url", "http://127.0.0.1:9/gemini", "--api-key", "k", "--html", "/no/such/dir/r.html"]
    assert main(argv) == 2
    assert "is not a directory" in capsys.readouterr().err
