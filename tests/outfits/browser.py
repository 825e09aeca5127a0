"""The project's pages in a real browser: Debian's headless Chromium driven by its chromedriver, an
accessibility check with axe-core run in the page, and screenshots for the README."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import selenium_axe_python
from django.conf import settings
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

# axe-core as the selenium-axe-python wheel pins it (4.x): no npm at test time.
AXE_JS = Path(selenium_axe_python.__file__).parent / "axe-core" / "axe.min.js"


def chromium(*, window: str = "1280,1600", console: bool = False) -> webdriver.Chrome:
    """Debian's headless Chromium, driven by its chromedriver. The machine's network is closed: no
    background calls home, no sandbox (root in CI). `console` keeps the page's log (get_log)."""
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={window}",
    ):
        options.add_argument(flag)
    if console:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "chromedriver")
    )
    driver.set_page_load_timeout(60)
    return driver


def axe_violations(driver: webdriver.Chrome, context: str = "document") -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands (WCAG 2.x A/AA rules and
    axe's best practices), each with the nodes it found, so a failure names what to fix."""
    driver.execute_script(AXE_JS.read_text())
    result: Any = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"axe.run({context}).then(r => done(r.violations),"
        " e => done([{id: 'axe failed', impact: 'critical', help: String(e), nodes: []}]));"
    )
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n.get("target") for n in v.get("nodes", [])][:5]}
        for v in result
        if v.get("impact") in ("serious", "critical")
    ]


def screenshots_dir() -> Path:
    """Where browser tests save screenshots: var/screenshots, or CTL_SCREENSHOTS_DIR (the README's
    images in docs/screenshots/ are refreshed by pointing it there)."""
    folder = Path(os.environ.get("CTL_SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "var" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    path = screenshots_dir() / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
