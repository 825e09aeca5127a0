"""The demo page in a real browser (Debian's headless Chromium driven by chromedriver)."""

from __future__ import annotations

from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait


def test_a_shopper_browses_an_item(live_shop: None, live_server: Any, browser: webdriver.Chrome) -> None:
    browser.get(live_server.url + "/?slot=top")
    cards = browser.find_elements(By.CSS_SELECTOR, "a.card")
    assert cards, browser.page_source[:2000]
    first_photo = cards[0].find_element(By.TAG_NAME, "img")
    assert browser.execute_script("return arguments[0].naturalWidth", first_photo) > 0, "photos load"
    cards[0].click()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.CSS_SELECTOR, "a.suggestion")))
    assert "Complete the look" in browser.find_element(By.TAG_NAME, "h2").text + browser.page_source
    assert browser.find_elements(By.XPATH, "//h3[text()='Bottom']")
    # A shopper's photo: tests/outfits/test_shop_the_look_browser.py.
