"""The editors' outfit grid and outfit builder in a real browser (Debian's headless Chromium)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from outfits.admin_outfits import piece_readings
from outfits.models import LibraryItem, LibraryOutfit
from tests.outfits.browser import axe_violations, screenshot

# Our markup, not Django's own chrome (header, sidebar) around it.
CONTENT = "document.querySelector('#content')"


def log_in(browser: webdriver.Chrome, live_server: Any) -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.com", "a long test password")
    browser.get(live_server.url + "/admin/login/")
    browser.find_element(By.NAME, "username").send_keys("editor")
    browser.find_element(By.NAME, "password").send_keys("a long test password", Keys.ENTER)
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "site-name")))


def piece_rows(browser: webdriver.Chrome) -> list[WebElement]:
    return [
        row
        for row in browser.find_elements(By.CSS_SELECTOR, "fieldset.outfit-builder tbody tr.form-row")
        if "empty-form" not in (row.get_attribute("class") or "")
    ]


def chosen_item(row: WebElement) -> int:
    return int(row.find_element(By.CSS_SELECTOR, "td.field-item select").get_attribute("value") or 0)


def position(row: WebElement) -> int:
    return int(row.find_element(By.CSS_SELECTOR, "td.field-position input").get_attribute("value") or 0)


# Chrome does not fire HTML5 drag events for WebDriver's synthetic mouse (ActionChains.drag_and_drop):
# the page gets the events a real drag fires, in order, sharing one DataTransfer.
DRAG = """
const [handle, target] = arguments;
const data = new DataTransfer();
const fire = (node, type) => node.dispatchEvent(
    new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data}));
fire(handle, 'dragstart');
fire(target, 'dragenter');
fire(target, 'dragover');
fire(target, 'drop');
fire(handle, 'dragend');
"""


def drag_onto(browser: webdriver.Chrome, row: WebElement, target: WebElement) -> None:
    handle = row.find_element(By.CSS_SELECTOR, ".piece-drag")
    assert handle.get_attribute("draggable") == "true"
    browser.execute_script(DRAG, handle, target.find_element(By.CSS_SELECTOR, "td.field-photo"))


def searched_for(browser: webdriver.Chrome, term: str) -> bool:
    """The piece search's results are the answer to `term`: none loading, every title matching."""
    if browser.find_elements(By.CSS_SELECTOR, ".select2-results__option.loading-results"):
        return False
    titles = [t.text for t in browser.find_elements(By.CSS_SELECTOR, ".piece-option-title")]
    return bool(titles) and all(term in title for title in titles)


@pytest.mark.django_db(transaction=True)
def test_an_editor_browses_outfit_cards_and_rebuilds_an_outfit(
    live_shop: None, live_server: Any, browser: webdriver.Chrome
) -> None:
    log_in(browser, live_server)

    browser.get(live_server.url + "/admin/outfits/libraryoutfit/")
    cards = browser.find_elements(By.CSS_SELECTOR, "tr.outfit-card")
    assert len(cards) == min(LibraryOutfit.objects.count(), 60)
    photo = cards[0].find_element(By.CSS_SELECTOR, ".outfit-piece img")
    assert browser.execute_script("return arguments[0].naturalWidth", photo) > 0, "piece photos load"
    # Cards sit side by side: the grid shows several outfits in one row of the screen.
    tops = {card.location["y"] for card in cards[:4]}
    assert len(tops) < 4, "cards are laid out as a grid, not one row each"
    screenshot(browser, "admin-outfit-grid")
    assert axe_violations(browser, CONTENT) == []

    outfit = LibraryOutfit.objects.order_by("pk").first()
    assert outfit is not None
    browser.get(f"{live_server.url}/admin/outfits/libraryoutfit/{outfit.pk}/change/")
    rows = piece_rows(browser)
    before = [chosen_item(row) for row in rows]
    assert len(before) >= 2
    assert rows[0].find_element(By.CSS_SELECTOR, "img.outfit-piece-photo").get_attribute("src")
    assert axe_violations(browser, CONTENT) == []

    # Reorder with the keyboard: focus the first piece's ↓ and press Enter.
    down = rows[0].find_element(By.CSS_SELECTOR, "button.piece-down")
    down.send_keys(Keys.ENTER)
    assert [chosen_item(row) for row in piece_rows(browser)][:2] == [before[1], before[0]]
    assert "Moved to place 2" in browser.find_element(By.CSS_SELECTOR, ".piece-move-status").text

    # Drag the last piece's handle onto the first piece: it takes the first place.
    shown = [before[1], before[0], *before[2:]]
    drag_onto(browser, piece_rows(browser)[-1], piece_rows(browser)[0])
    shown = [shown[-1], *shown[:-1]]
    assert [chosen_item(row) for row in piece_rows(browser)] == shown
    positions = [position(row) for row in piece_rows(browser)]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert (
        f"Moved to place 1 of {len(shown)}"
        in browser.find_element(By.CSS_SELECTOR, ".piece-move-status").text
    )

    # Remove the last piece, add one found by searching the library (each result with its photo).
    removed = shown[-1] if len(shown) > 2 else None
    if removed is not None:
        piece_rows(browser)[-1].find_element(By.CSS_SELECTOR, "td.delete input[type=checkbox]").click()
    newcomer = LibraryItem.objects.exclude(outfits=outfit).order_by("pk").first()
    assert newcomer is not None
    browser.find_element(By.CSS_SELECTOR, ".outfit-builder ~ .add-row a, .add-row a").click()
    new_row = piece_rows(browser)[-1]
    new_row.find_element(By.CSS_SELECTOR, ".select2-selection").click()
    search = WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".select2-container--open .select2-search__field"))
    )
    search.send_keys(newcomer.external_id)
    # The answer to the whole id: select2 shows earlier answers (to the empty search) meanwhile.
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda _: searched_for(browser, newcomer.external_id)
    )
    option = (
        "//li[contains(@class,'select2-results__option')]"
        f"[.//span[@class='piece-option-title' and text()='{newcomer.external_id}']]"
    )
    found = browser.find_element(By.XPATH, option)
    thumb = found.find_element(By.CSS_SELECTOR, "img.piece-option-photo")
    assert (thumb.get_attribute("src") or "").endswith(newcomer.image.url)
    loaded = "return arguments[0].complete && arguments[0].naturalWidth"
    WebDriverWait(browser, 10).until(lambda _: browser.execute_script(loaded, thumb))
    screenshot(browser, "admin-outfit-builder-search")
    found.click()
    assert chosen_item(new_row) == newcomer.pk
    preview = (By.CSS_SELECTOR, "td.field-photo img.outfit-piece-photo")
    WebDriverWait(browser, 10).until(lambda _: new_row.find_elements(*preview))
    words = piece_readings([newcomer.pk])[newcomer.pk].description
    assert words and new_row.find_element(*preview).get_attribute("alt") == words.capitalize()
    screenshot(browser, "admin-outfit-builder")
    assert axe_violations(browser, CONTENT) == [], "the builder after a drag, a removal and an addition"

    browser.find_element(By.NAME, "_save").click()
    saved = (By.CSS_SELECTOR, ".messagelist .success")
    WebDriverWait(browser, 30).until(ec.presence_of_element_located(saved))
    expected = list(shown)
    if removed is not None:
        expected.remove(removed)
    expected.append(newcomer.pk)
    assert list(outfit.memberships.order_by("position", "pk").values_list("item_id", flat=True)) == expected
    assert LogEntry.objects.filter(object_id=str(outfit.pk), action_flag=CHANGE).exists()
