"""The inspector at /_mock/ui, driven in Debian's Chromium (headless) through its own chromedriver.

Selenium drives the browser; both Chromium and chromedriver are Debian packages that
`make test` installs, so nothing downloads a browser of its own.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.clock import VirtualClock
from mockserver.config import MockConfig
from mockserver.testing import LiveMockServer

pytestmark = pytest.mark.slow

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

GEMINI = "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning"
OPENAI = "/openai/v1/videos"
WINDOW = (1400, 1100)


def browser() -> Any:
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail(
            "Debian's chromium and chromium-driver are missing: `make test` installs them (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--autoplay-policy=no-user-gesture-required",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture
def live() -> Iterator[LiveMockServer]:
    with LiveMockServer(clock=VirtualClock(), seed=8) as server:
        yield server


@pytest.fixture
def chrome() -> Iterator[Any]:
    driver = browser()
    try:
        yield driver
    finally:
        driver.quit()


def create_two(live: LiveMockServer) -> tuple[str, str]:
    gemini = httpx.post(live.base_url + GEMINI, json={"instances": [{"prompt": "a lighthouse at dusk"}]}, headers={"x-goog-api-key": "k1"})
    openai = httpx.post(live.base_url + OPENAI, json={"prompt": "a cat on a piano", "seconds": "4"}, headers={"authorization": "Bearer k2"})
    assert gemini.status_code == 200 and openai.status_code == 200
    records = {r.dialect: r.token for r in live.records()}
    return records["gemini"], records["openai"]


ROWS = (
    "return [...document.querySelectorAll('#operations tbody tr')].map(r => [r.dataset.token, r.querySelector('span.state').dataset.state])"
)


def rows(chrome: Any) -> list[tuple[str, str]]:
    """(token, state) of each row, read in one go: the page re-renders them as it refreshes."""
    return [tuple(row) for row in chrome.execute_script(ROWS)]


def row_state(chrome: Any, token: str) -> str | None:
    return dict(rows(chrome)).get(token)


def waiting(chrome: Any, seconds: float = 10) -> Any:
    return WebDriverWait(chrome, seconds, ignored_exceptions=(StaleElementReferenceException,))


def test_rows_appear_and_the_page_steers_through_the_control_api(live: LiveMockServer, chrome: Any) -> None:
    chrome.get(f"{live.base_url}/_mock/ui")
    gemini, openai = create_two(live)  # created after the page opened: they appear within a second
    wait = waiting(chrome)
    wait.until(lambda d: len(rows(d)) == 2)
    assert rows(chrome) == [(openai, "queued"), (gemini, "queued")]  # newest first
    assert "a lighthouse at dusk" in chrome.find_element(By.ID, "operations").text

    # Advance the virtual clock with the page's own control: both jobs run, then finish.
    chrome.find_element(By.ID, "advance-seconds").clear()
    chrome.find_element(By.ID, "advance-seconds").send_keys("600")
    chrome.find_element(By.ID, "advance").click()
    wait.until(lambda d: row_state(d, gemini) == "succeeded" and row_state(d, openai) == "succeeded")

    # Filter by dialect: one row.
    Select(chrome.find_element(By.ID, "f-dialect")).select_by_value("openai")
    wait.until(lambda d: [token for token, _ in rows(d)] == [openai])
    Select(chrome.find_element(By.ID, "f-dialect")).select_by_value("")

    # Open the gemini operation and force a state on a fresh one through the page.
    third = httpx.post(live.base_url + GEMINI, json={"instances": [{"prompt": "to be failed"}]}, headers={"x-goog-api-key": "k1"})
    assert third.status_code == 200
    token = next(r.token for r in live.records() if r.inputs.get("prompt") == "to be failed")
    chrome.get(f"{live.base_url}/_mock/ui#/op/{token}")
    wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "d-title"), "Gemini"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#d-exchanges .exchange[data-role="create"]'))
    assert "to be failed" in chrome.find_element(By.ID, "d-exchanges").text  # the create's body as the client sent it
    assert "k1" not in chrome.find_element(By.ID, "d-exchanges").text
    Select(chrome.find_element(By.ID, "d-force")).select_by_value("failed")
    chrome.find_element(By.ID, "d-force-go").click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#d-state span.state").get_attribute("data-state") == "failed")
    record = next(r for r in live.records() if r.token == token)
    assert record.forced_state == "failed", "the page and the store agree"


def test_the_operation_page_plays_the_result(live: LiveMockServer, chrome: Any, tmp_path: Path) -> None:
    _, openai = create_two(live)
    live.advance(600)
    chrome.get(f"{live.base_url}/_mock/ui#/op/{openai}")
    wait = waiting(chrome, 15)
    wait.until(lambda d: d.execute_script("const v = document.getElementById('video'); return v !== null && v.readyState >= 2"))
    size = chrome.execute_script("const v = document.getElementById('video'); return [v.videoWidth, v.videoHeight, v.duration]")
    assert size[:2] == [720, 1280] and abs(size[2] - 4.0) < 0.1, size
    variants = {img.get_attribute("data-variant") for img in chrome.find_elements(By.CSS_SELECTOR, "img.variant")}
    assert variants == {"thumbnail", "spritesheet"}  # the openai dialect serves both
    wait.until(
        lambda d: d.execute_script("return [...document.querySelectorAll('img.variant')].every(i => i.complete && i.naturalWidth > 0)")
    )
    shot = tmp_path / "operation.png"
    chrome.save_screenshot(str(shot))
    data = shot.read_bytes()
    viewport = tuple(chrome.execute_script("return [window.innerWidth, window.innerHeight]"))
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == viewport
    assert len(data) > 30_000, "a page with a video frame, two images and text, not a blank screen"


def test_the_page_needs_the_control_token_when_one_is_set() -> None:
    config = MockConfig(control_token="s3cret-token", control_loopback_only=False)
    with LiveMockServer(config=config) as server:
        assert httpx.get(f"{server.base_url}/_mock/ui").status_code == 401
        page = httpx.get(f"{server.base_url}/_mock/ui", params={"token": "s3cret-token"})
        assert page.status_code == 200 and 'src="ui/app.js?token=s3cret-token"' in page.text
        assert httpx.get(f"{server.base_url}/_mock/ui/app.js", params={"token": "s3cret-token"}).status_code == 200
        assert httpx.post(f"{server.base_url}/_mock/reset", params={"token": "s3cret-token"}).status_code == 401  # changes need the header
