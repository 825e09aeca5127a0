"""The demo page in a real browser (Debian's headless Chromium driven by chromedriver)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.factories import flat_lay_photo, garment_photo


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    # The machine's network is closed: no background calls home, no sandbox (root in CI).
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        options=options, service=Service(shutil.which("chromedriver") or "chromedriver")
    )
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_a_shopper_browses_an_item_and_uploads_a_photo(
    live_shop: None, live_server: Any, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    browser.get(live_server.url + "/?slot=top")
    cards = browser.find_elements(By.CSS_SELECTOR, "a.card")
    assert cards, browser.page_source[:2000]
    first_photo = cards[0].find_element(By.TAG_NAME, "img")
    assert browser.execute_script("return arguments[0].naturalWidth", first_photo) > 0, "photos load"
    cards[0].click()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.suggestion")))
    assert "Complete the look" in browser.find_element(By.TAG_NAME, "h2").text + browser.page_source
    assert browser.find_elements(By.XPATH, "//h3[text()='Bottom']")

    photo = tmp_path / "my-jeans.jpg"
    photo.write_bytes(garment_photo("Jeans", "Jeans", (40, 60, 110)))
    browser.get(live_server.url + "/")
    browser.find_element(By.NAME, "photo").send_keys(str(photo))
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "look-status").text in ("done", "failed")
    )
    assert browser.find_element(By.ID, "look-status").text == "done"
    assert "bottom" in browser.page_source
    assert browser.find_elements(By.CSS_SELECTOR, "a.suggestion")
    browser.save_screenshot(str(tmp_path / "look.png"))


def test_a_shopper_uploads_an_outfit_photo_and_chooses_a_garment(
    live_shop: None, live_server: Any, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    photo = tmp_path / "flat-lay.jpg"
    photo.write_bytes(flat_lay_photo())
    browser.get(live_server.url + "/")
    browser.find_element(By.NAME, "photo").send_keys(str(photo))
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 60).until(
        lambda d: d.find_element(By.ID, "look-status").text in ("done", "failed")
    )
    # A box drawn on the photo for every garment found, over the photo's own pixels.
    boxes = browser.find_elements(By.CSS_SELECTOR, "#look-photo a.garment-box rect")
    assert len(boxes) >= 2, browser.page_source[:3000]
    assert all(box.size["width"] > 20 and box.size["height"] > 20 for box in boxes)
    # The photo under the boxes loads from its private, signed link (no credentials in a browser).
    loaded: Any = browser.execute_async_script(
        "const done = arguments[arguments.length - 1], img = new Image();"
        "img.onload = () => done(img.naturalWidth); img.onerror = () => done(-1);"
        "img.src = document.querySelector('#look-photo image').getAttribute('href');"
    )
    assert loaded > 0, browser.find_element(By.CSS_SELECTOR, "#look-photo image").get_attribute("href")
    browser.save_screenshot(str(tmp_path / "outfit-photo.png"))
    # Choosing another garment shows what completes the look around it.
    links = browser.find_elements(By.CSS_SELECTOR, "#garments a")
    target = links[-1].get_attribute("href")
    links[-1].click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url == target)
    assert browser.find_elements(By.CSS_SELECTOR, "#look-photo a.garment-box.chosen")
    assert browser.find_elements(By.CSS_SELECTOR, "a.suggestion")
