"""The quality queue's approve flow in a real browser (Debian's headless Chromium): an editor logs
in, ticks a pending outfit, approves it; screenshots saved (tests/outfits/browser.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from outfits.editors import GROUP
from outfits.models import LibraryOutfit
from tests.outfits.browser import axe_violations, screenshot

# Our markup, not Django's own chrome (header, sidebar) around it.
CONTENT = "document.querySelector('#content')"


def test_an_editor_approves_a_pending_outfit_in_the_quality_queue_and_sees_the_index_status(
    live_shop: None,
    live_server: Any,
    browser: webdriver.Chrome,
) -> None:
    editor = get_user_model().objects.create_user("curator", password="curate-it", is_staff=True)
    editor.groups.add(Group.objects.get(name=GROUP))
    waiting = list(LibraryOutfit.objects.order_by("pk")[:3])
    LibraryOutfit.objects.filter(pk__in=[o.pk for o in waiting]).update(status=LibraryOutfit.Status.PENDING)
    chosen = waiting[0]

    browser.get(live_server.url + "/admin/login/?next=/admin/outfits/qualityqueueoutfit/")
    browser.find_element(By.NAME, "username").send_keys("curator")
    browser.find_element(By.NAME, "password").send_keys("curate-it")
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 3, browser.page_source[:3000]
    pieces = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr figure img")
    assert pieces and all(browser.execute_script("return arguments[0].complete", p) for p in pieces)
    assert browser.execute_script("return arguments[0].naturalWidth", pieces[0]) > 0, "thumbnails load"
    screenshot(browser, "admin-quality-queue")
    assert axe_violations(browser, CONTENT) == []

    browser.find_element(By.CSS_SELECTOR, f"input.action-select[value='{chosen.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("approve")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()

    # The approval queues an index build, run in the request (eager Celery): wait for the answer.
    success = (By.CSS_SELECTOR, "ul.messagelist li.success")
    message = WebDriverWait(browser, 60).until(ec.presence_of_element_located(success)).text
    assert message.startswith("1 outfits approved"), message
    assert len(browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")) == 2
    screenshot(browser, "admin-quality-queue-approved")
    chosen.refresh_from_db()
    assert (chosen.status, chosen.reviewed_by) == (LibraryOutfit.Status.APPROVED, editor)
    entry = LogEntry.objects.get(object_id=str(chosen.pk))
    assert (entry.user, entry.get_change_message()) == (editor, "Approved in the quality queue")

    browser.get(live_server.url + "/admin/outfits/indexstatus/")
    assert browser.find_element(By.ID, "rebuild").is_displayed()
    screenshot(browser, "admin-index-status")
    assert axe_violations(browser, CONTENT) == []
