"""The shop-the-look page in a real browser: a shopper's photo in, the garments found boxed on it,
what completes the look around the one they choose. Screenshots saved (tests/outfits/browser.py)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from outfits import looks, tasks
from outfits.api.auth import ClientRateThrottle
from outfits.models import ApiKey, IndexBuild, LookRequest
from tests.factories import flat_lay_photo, garment_photo
from tests.outfits.browser import axe_violations, screenshot


def _upload(driver: webdriver.Chrome, url: str, photo: Path) -> None:
    driver.get(url + "/shop-the-look/")
    driver.find_element(By.NAME, "photo").send_keys(str(photo))
    driver.find_element(By.CSS_SELECTOR, "#look-form button[type=submit]").click()


def _status(driver: webdriver.Chrome) -> str:
    return str(driver.find_element(By.ID, "look-status").text)


def _photo(tmp_path: Path) -> Path:
    photo = tmp_path / "flat-lay.jpg"
    photo.write_bytes(flat_lay_photo())
    return photo


def _found(driver: webdriver.Chrome) -> bool:
    return bool(driver.find_elements(By.CSS_SELECTOR, "#garments .garment-choice"))


def test_the_page_uploads_with_the_storefronts_public_key_even_for_a_signed_in_editor(
    live_shop: None, live_server: Any, browser: webdriver.Chrome, tmp_path: Path, editor_user: Any
) -> None:
    # An editor signed in to the admin: the page's calls carry the key, not the session (which would
    # also want a CSRF token), so the look is the public key's.
    signed_in = Client()
    signed_in.force_login(editor_user)
    browser.get(live_server.url + "/healthz")
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session})
    _upload(browser, live_server.url, _photo(tmp_path))
    WebDriverWait(browser, 60).until(_found)
    look = LookRequest.objects.get()
    assert look.user is None and look.api_key is not None and look.api_key.kind == ApiKey.Kind.PUBLIC
    assert look.api_key.allowed_origins == [live_server.url]


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
    # Each piece leads to its product page in the shop.
    assert all("/demo/shop/" in (card.get_attribute("href") or "") for card in cards)
    chosen_slot = str(names[-1]).split(", ")[1]
    slots = {h.text.lower() for h in browser.find_elements(By.CSS_SELECTOR, "#suggestion-slots h3")}
    assert slots and chosen_slot not in slots
    # A click on a box chooses too.
    boxes[0].click()
    assert choices[0].get_attribute("aria-pressed") == "true"
    screenshot(browser, "shop-the-look-chosen")
    errors = [e for e in browser.get_log("browser") if e["source"] == "javascript"]
    assert not errors, errors
    assert not axe_violations(browser), "the page with suggestions shown, as a screen reader meets it"


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


def test_a_look_whose_analysis_fails_is_said_kindly_and_another_photo_is_offered(
    live_shop: None, live_server: Any, browser: webdriver.Chrome, tmp_path: Path
) -> None:
    # No active index: the worker's analysis raises NoIndex and stores the look as failed.
    active = list(IndexBuild.objects.filter(active=True).values_list("pk", flat=True))
    IndexBuild.objects.update(active=False)
    _upload(browser, live_server.url, _photo(tmp_path))
    WebDriverWait(browser, 60).until(lambda d: "couldn't read this photo" in _status(d))
    assert LookRequest.objects.get().status == LookRequest.Status.FAILED
    status = browser.find_element(By.ID, "look-status")
    assert status.get_attribute("class") == "error" and status.get_attribute("role") == "status"
    assert "index" not in _status(browser).lower(), "the worker's reason is for the shop's staff"
    assert not browser.find_elements(By.CSS_SELECTOR, ".garment-box, .garment-choice")
    assert browser.find_element(By.ID, "suggestions").get_attribute("hidden")
    screenshot(browser, "shop-the-look-failed")

    # The offer takes the shopper back to the photo field; the next photo, with the index back, is read.
    browser.find_element(By.ID, "look-action").click()
    assert browser.switch_to.active_element.get_attribute("id") == "look-photo-input"
    assert browser.find_element(By.ID, "look").get_attribute("hidden")
    assert "?look=" not in browser.current_url and not _status(browser)
    IndexBuild.objects.filter(pk__in=active).update(active=True)
    browser.find_element(By.NAME, "photo").send_keys(str(_photo(tmp_path)))
    browser.find_element(By.CSS_SELECTOR, "#look-form button[type=submit]").click()
    WebDriverWait(browser, 60).until(_found)
    assert "Found" in _status(browser)


def test_an_unreachable_api_is_said_and_the_shopper_can_try_again(
    live_shop: None,
    live_server: Any,
    browser: webdriver.Chrome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks.look_recommend, "delay", lambda look_id: None)  # the test is the worker
    # The browser itself refuses the API's looks (as a dropped connection would): the fetch rejects.
    browser.execute_cdp_cmd("Network.enable", {})
    blocked = {"urls": ["*/api/v1/looks/*"]}
    browser.execute_cdp_cmd("Network.setBlockedURLs", blocked)
    _upload(browser, live_server.url, _photo(tmp_path))
    WebDriverWait(browser, 30).until(lambda d: "couldn't reach the shop" in _status(d))
    assert browser.find_element(By.ID, "look-status").get_attribute("class") == "error"
    assert browser.find_element(By.CSS_SELECTOR, "#look-form button[type=submit]").is_enabled()
    assert not LookRequest.objects.exists()
    screenshot(browser, "shop-the-look-unreachable")

    # Back on line, the same photo goes up; then the line drops while the page waits for the job.
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    retry = browser.find_element(By.ID, "look-action")
    assert retry.text == "Try again"
    retry.click()
    WebDriverWait(browser, 30).until(lambda d: "in the queue" in _status(d))
    browser.execute_cdp_cmd("Network.setBlockedURLs", blocked)
    WebDriverWait(browser, 30).until(lambda d: "lost touch with the shop" in _status(d))
    assert browser.find_element(By.ID, "look-status").get_attribute("class") == "error"

    done = looks.look_recommend(look_id=str(LookRequest.objects.get().pk))
    assert done is not None and done.status == "done"
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.find_element(By.ID, "look-action").click()
    WebDriverWait(browser, 60).until(_found)
    assert LookRequest.objects.count() == 1


def test_a_throttled_upload_says_when_to_try_again(
    live_shop: None,
    live_server: Any,
    browser: webdriver.Chrome,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One upload a minute per shopper, the clock 7 s into a minute: the second upload is a 429 with
    # Retry-After 53 (the live server runs in this process, so it counts with these).
    rates = dict(ClientRateThrottle.THROTTLE_RATES) | {"shopper_looks": "1/min"}
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(ClientRateThrottle, "timer", lambda self: 1_800_000_000.0 + 7)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(garment_photo()[:1500])
    _upload(browser, live_server.url, broken)
    WebDriverWait(browser, 30).until(lambda d: "can't be used" in _status(d))
    browser.find_element(By.NAME, "photo").send_keys(str(_photo(tmp_path)))
    browser.find_element(By.CSS_SELECTOR, "#look-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: "try again in" in _status(d))
    assert "try again in 53 seconds" in _status(browser)
    assert browser.find_element(By.ID, "look-status").get_attribute("class") == "error"
    assert not browser.find_element(By.ID, "look-action").is_enabled(), "not before the API would take it"
    assert not LookRequest.objects.exists()
    screenshot(browser, "shop-the-look-throttled")
