"""The storefront widget on the demo shop's product page, in a real browser (Debian's headless
Chromium driven by chromedriver): it renders a row per slot, switches slot by click and by keyboard,
passes axe-core, and leaves no row and no error on the shop's page when the API fails or is slow."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import Http404
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from outfits import suggestions
from outfits.models import CatalogItem
from tests.outfits.browser import axe_violations, chromium, screenshot


@pytest.fixture
def shop_browser() -> Iterator[webdriver.Chrome]:
    """A phone-sized headless Chromium that keeps the page's console (get_log("browser"))."""
    driver = chromium(window="412,915", console=True)
    yield driver
    driver.quit()


def _product_page(live_server: Any, browser: webdriver.Chrome) -> WebElement:
    top = CatalogItem.objects.filter(category__slot="top", in_stock=True).order_by("id").first()
    assert top is not None
    browser.get(f"{live_server.url}/demo/shop/{top.external_id}/")
    host = browser.find_element(By.CSS_SELECTOR, "[data-complete-the-look]")
    # Lazy: the row loads once scrolled into view (the placeholder sits below a phone's first screen).
    browser.execute_script("arguments[0].scrollIntoView()", host)
    return host


def _settled(browser: webdriver.Chrome, host: WebElement) -> str:
    WebDriverWait(browser, 30).until(
        lambda d: host.get_attribute("data-ctl-state") in ("shown", "empty", "failed")
    )
    return str(host.get_attribute("data-ctl-state"))


def _shadow(browser: webdriver.Chrome, host: WebElement, selector: str) -> list[WebElement]:
    script = "return [...arguments[0].shadowRoot.querySelectorAll(arguments[1])]"
    found = browser.execute_script(script, host, selector)
    return list(found)


def _page_errors(browser: webdriver.Chrome, *, api_failures_expected: bool = False) -> list[dict[str, Any]]:
    """The console's errors, but for the browser's own note of an API answer that was an HTTP error
    (the widget cannot silence that line; it is the network's, not a script's)."""
    entries = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    if api_failures_expected:
        entries = [e for e in entries if not (e.get("source") == "network" and "/api/v1/" in e["message"])]
    return entries


def test_widget_renders_a_row_per_slot_and_switches_slot_by_click_and_keyboard(
    live_shop: None, live_server: Any, shop_browser: webdriver.Chrome
) -> None:
    browser = shop_browser
    host = _product_page(live_server, browser)
    assert _settled(browser, host) == "shown"

    tabs = _shadow(browser, host, "[role=tab]")
    panels = _shadow(browser, host, "[role=tabpanel]")
    assert len(tabs) >= 2 and len(panels) == len(tabs), _shadow(browser, host, "*")
    visible = [p for p in panels if p.is_displayed()]
    assert len(visible) == 1 and visible[0].get_attribute("id") == tabs[0].get_attribute("aria-controls")
    cards = _shadow(browser, host, "[role=tabpanel]:not([hidden]) li")
    assert cards
    # Each piece: a photo that loads, a title, a link into the shop, its reason as the link's description.
    link = _shadow(browser, host, "[role=tabpanel]:not([hidden]) li a")[0]
    assert (link.get_attribute("href") or "").startswith("http")
    assert browser.execute_script("return arguments[0].querySelector('img').naturalWidth", link) > 0
    assert link.find_element(By.CSS_SELECTOR, ".t").text
    tip_id = link.get_attribute("aria-describedby")
    tip = _shadow(browser, host, f"#{tip_id}")[0]
    assert tip.get_attribute("role") == "tooltip" and tip.get_attribute("textContent")
    screenshot(browser, "widget-product-page")

    first_slot = host.get_attribute("data-ctl-slot")
    tabs[1].click()
    assert [t.get_attribute("aria-selected") for t in tabs[:2]] == ["false", "true"]
    assert host.get_attribute("data-ctl-slot") != first_slot
    assert panels[1].is_displayed() and not panels[0].is_displayed()

    # Keyboard: arrows move between tabs (and wrap), focus follows, the selected tab is the one in Tab order.
    tabs[1].send_keys(Keys.ARROW_LEFT)
    assert tabs[0].get_attribute("aria-selected") == "true" and panels[0].is_displayed()
    focused = browser.execute_script("return arguments[0].shadowRoot.activeElement", host)
    assert focused == tabs[0]
    tabs[0].send_keys(Keys.ARROW_LEFT)
    assert tabs[-1].get_attribute("aria-selected") == "true"
    tabs[-1].send_keys(Keys.HOME)
    assert tabs[0].get_attribute("aria-selected") == "true"
    assert [t.get_attribute("tabindex") for t in tabs] == ["0"] + ["-1"] * (len(tabs) - 1)
    screenshot(browser, "widget-keyboard")

    assert axe_violations(browser) == []
    assert _page_errors(browser) == []

    # The same row on a desktop window: the README's picture of the widget.
    browser.set_window_size(1280, 1100)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", host)
    screenshot(browser, "widget-desktop")


@pytest.mark.parametrize(
    "failure", [RuntimeError("index on fire"), Http404("no such item")], ids=["500", "404"]
)
def test_widget_leaves_no_row_when_the_api_fails(
    live_shop: None,
    live_server: Any,
    shop_browser: webdriver.Chrome,
    monkeypatch: pytest.MonkeyPatch,
    failure: Exception,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise failure

    monkeypatch.setattr(suggestions, "suggest_for", broken)
    host = _product_page(live_server, shop_browser)
    assert _settled(shop_browser, host) == "failed"
    assert shop_browser.execute_script("return arguments[0].shadowRoot", host) is None
    assert host.size["height"] == 0
    assert _page_errors(shop_browser, api_failures_expected=True) == []


def test_widget_gives_up_on_a_slow_api(
    live_shop: None, live_server: Any, shop_browser: webdriver.Chrome, monkeypatch: pytest.MonkeyPatch
) -> None:
    released = threading.Event()
    answer = suggestions.suggest_for

    def slow(*args: Any, **kwargs: Any) -> Any:
        released.wait(20)  # longer than the widget's 4 s; the test releases it when done
        return answer(*args, **kwargs)

    monkeypatch.setattr(suggestions, "suggest_for", slow)
    try:
        host = _product_page(live_server, shop_browser)
        assert _settled(shop_browser, host) == "failed"
        assert shop_browser.execute_script("return arguments[0].shadowRoot", host) is None
        assert _page_errors(shop_browser) == []
    finally:
        released.set()
