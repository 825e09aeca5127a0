"""The shop-the-look page in a real browser: a shopper's photo in, the garments found boxed on it,
what completes the look around the one they choose. Screenshots saved (tests/outfits/browser.py)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from outfits import looks, tasks
from outfits.models import LookRequest
from tests.factories import flat_lay_photo, garment_photo
from tests.outfits.browser import screenshot


def _upload(driver: webdriver.Chrome, url: str, photo: Path) -> None:
    driver.get(url + "/shop-the-look/")
    driver.find_element(By.NAME, "photo").send_keys(str(photo))
    driver.find_element(By.CSS_SELECTOR, "#look-form button[type=submit]").click()


def _status(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.ID, "look-status").text)


def test_a_shopper_sees_progress_then_boxes_and_chooses_a_garment(
    live_shop: None,
    live_server: Any,
    browser: webdriver.Chrome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No worker takes the job until the test says so, so the page is seen waiting for it.
    monkeypatch.setattr(tasks.look_recommend, "delay", lambda look_id: None)
    photo = tmp_path / "flat-lay.jpg"
    photo.write_bytes(flat_lay_photo())
    _upload(browser, live_server.url, photo)
    WebDriverWait(browser, 30).until(lambda d: "in the queue" in _status(d))
    assert browser.find_element(By.ID, "look-status").get_attribute("class") == "busy"
    assert "?look=" in browser.current_url
    screenshot(browser, "shop-the-look-waiting")

    look = LookRequest.objects.get()
    done = looks.look_recommend(look_id=str(look.pk))  # the worker's turn
    assert done is not None and done.status == "done", (done and done.error, done and done.status)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#garments .garment-choice"))
    assert "Found" in _status(browser)
    # A box on the photo for every garment found, over the photo's own pixels, named like its list entry.
    boxes = browser.find_elements(By.CSS_SELECTOR, "#look-photo button.garment-box")
    choices = browser.find_elements(By.CSS_SELECTOR, "#garments button.garment-choice")
    assert len(boxes) == len(choices) >= 2, browser.page_source[:3000]
    assert all(box.size["width"] > 20 and box.size["height"] > 20 for box in boxes)
    names = [box.get_attribute("aria-label") for box in boxes]
    assert names == [choice.text for choice in choices]
    assert all(", " in str(name) and str(name).split(", ")[1] in {"top", "bottom", "shoes"} for name in names)
    image = browser.find_element(By.ID, "look-image")
    assert browser.execute_script("return arguments[0].naturalWidth", image) > 0, "the signed link loads"
    # Every box lies on the displayed photo.
    shown = image.rect
    for box in boxes:
        left, width = box.rect["x"], box.rect["width"]
        assert shown["x"] - 1 <= left and left + width <= shown["x"] + shown["width"] + 1
    assert browser.find_elements(By.CSS_SELECTOR, "#suggestion-slots a.suggestion")
    screenshot(browser, "shop-the-look-boxes")

    # Choosing another garment from the keyboard shows what completes the look around it, with reasons.
    first_heading = browser.find_element(By.ID, "suggestions-heading").text
    choices[-1].send_keys(Keys.ENTER)
    assert choices[-1].get_attribute("aria-pressed") == "true"
    assert boxes[-1].get_attribute("aria-pressed") == "true"
    assert boxes[0].get_attribute("aria-pressed") == "false"
    heading = browser.find_element(By.ID, "suggestions-heading").text
    assert heading != first_heading and str(names[-1]).split(", ")[0].lower() in heading.lower()
    cards = browser.find_elements(By.CSS_SELECTOR, "#suggestion-slots a.suggestion")
    assert cards and all(card.find_element(By.CLASS_NAME, "reason").text for card in cards)
    chosen_slot = str(names[-1]).split(", ")[1]
    slots = {h.text.lower() for h in browser.find_elements(By.CSS_SELECTOR, "#suggestion-slots h3")}
    assert slots and chosen_slot not in slots
    # A click on a box chooses too.
    boxes[0].click()
    assert choices[0].get_attribute("aria-pressed") == "true"
    screenshot(browser, "shop-the-look-chosen")
    errors = [e for e in browser.get_log("browser") if e["source"] == "javascript"]
    assert not errors, errors


def test_a_photo_with_nothing_found_is_answered_kindly(
    live_shop: None,
    live_server: Any,
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (400, 400), (128, 128, 128)).save(blank, format="JPEG")
    photo = tmp_path / "wall.jpg"
    photo.write_bytes(blank.getvalue())
    _upload(browser, live_server.url, photo)
    WebDriverWait(browser, 60).until(lambda d: "couldn't spot" in _status(d))
    assert "no garment" in _status(browser)  # the look's own reason
    assert not browser.find_elements(By.CSS_SELECTOR, ".garment-box, .garment-choice")
    assert browser.find_element(By.ID, "suggestions").get_attribute("hidden")
    screenshot(browser, "shop-the-look-nothing-found")


def test_a_corrupt_photo_is_refused_with_the_apis_message(
    live_shop: None,
    live_server: Any,
    browser: webdriver.Chrome,
    tmp_path: Path,
) -> None:
    photo = tmp_path / "broken.jpg"
    photo.write_bytes(garment_photo()[:1500])
    _upload(browser, live_server.url, photo)
    WebDriverWait(browser, 30).until(lambda d: "can't be used" in _status(d))
    assert browser.find_element(By.ID, "look-status").get_attribute("class") == "error"
    assert "truncated" in _status(browser).lower() or "photo" in _status(browser).lower()
    assert not LookRequest.objects.exists()
    screenshot(browser, "shop-the-look-corrupt")
