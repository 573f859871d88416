"""The docs page in a real headless Chromium: it loads from the API alone (no CDN), lists every operation of
/openapi.json, and "Try it out" on classification answers 200 from the real inference worker.

The screenshot is kept under .data/artefacts/ for CI to publish.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from typing import Iterator

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from geulpi_tasks.settings import PROJECT_ROOT

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                                reason="chromium not installed (apt-get install -y chromium chromium-driver)")
SCREENSHOT = PROJECT_ROOT / ".data" / "artefacts" / "docs-page.png"
EVENT = {"title": "Team standup meeting", "startTime": "2024-01-22T09:00:00", "endTime": "2024-01-22T09:30:00"}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(base_settings, celery_client, inference_worker) -> Iterator[str]:  # type: ignore[no-untyped-def]
    from api import create_app

    # Reads closed: the page and its files must still load without a key.
    app = create_app(dataclasses.replace(base_settings, auth_reads="key"), celery=celery_client)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 "--window-size=1280,4000", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def test_docs_page_lists_every_operation_and_try_it_out_classifies(served, browser):
    import requests
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    document = requests.get(f"{served}/openapi.json", timeout=10).json()
    operation_ids = {op["operationId"] for ops in document["paths"].values() for op in ops.values()}
    browser.get(f"{served}/docs")
    wait = WebDriverWait(browser, 60)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(operation_ids))
    shown = {e.get_attribute("id") for e in browser.find_elements(By.CSS_SELECTOR, ".opblock")}
    assert {f"operations-default-{op}" for op in operation_ids} == shown
    # Nothing came from elsewhere: every script and stylesheet is the API's own.
    sources = browser.execute_script(
        "return [...document.scripts].map(s => s.src).concat([...document.querySelectorAll('link')].map(l => l.href))")
    assert sources and all(src.startswith(served) for src in sources if src), sources

    block = browser.find_element(By.ID, "operations-default-classifyEvent")
    block.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "#operations-default-classifyEvent .try-out__btn")))
    block.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    body = wait.until(ready.visibility_of_element_located(
        (By.CSS_SELECTOR, "#operations-default-classifyEvent textarea.body-param__text")))
    body.clear()
    body.send_keys(json.dumps(EVENT))
    block.find_element(By.CSS_SELECTOR, ".execute").click()
    status = wait.until(ready.visibility_of_element_located(
        (By.CSS_SELECTOR, "#operations-default-classifyEvent .live-responses-table tr.response .response-col_status")))
    answer = block.find_element(By.CSS_SELECTOR, ".live-responses-table .response-col_description pre").text
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    assert status.text.strip().startswith("200"), answer
    assert json.loads(answer)["eventType"] == "WORK"
