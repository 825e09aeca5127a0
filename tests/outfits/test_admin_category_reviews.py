"""The mislabel audit's review queue in the admin: the list, one-click and bulk decisions, the log,
CSRF and permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils.html import escape

from outfits import services
from outfits.editors import GROUP
from outfits.models import CategoryReview
from tests.outfits.mislabel import mislabel

pytestmark = pytest.mark.django_db

QUEUE = "/admin/outfits/categoryreview/"


@pytest.fixture
def review() -> CategoryReview:
    item, _, _ = mislabel("catalog")
    services.category_reviews_refresh()
    return CategoryReview.objects.get(catalog_item=item, status=CategoryReview.Status.OPEN)


def logged_in(user: Any) -> Client:
    """A browser-like client: CSRF is checked, so a POST needs the token the queue page sets."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(QUEUE)
    return client


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **(data or {})})


def test_the_queue_lists_open_reviews_first_with_photo_and_buttons(
    editor_user: Any, review: CategoryReview
) -> None:
    other, _, _ = mislabel("catalog", nth=1)
    services.category_reviews_refresh()
    dismissed = CategoryReview.objects.get(catalog_item=other)
    services.category_review_dismiss(review_ids=[dismissed.pk], reviewer=editor_user)
    page = logged_in(editor_user).get(QUEUE).content.decode()
    garment = review.garment
    assert page.index(garment.external_id) < page.index(dismissed.garment.external_id)
    assert garment.image.url in page
    assert f"{escape(review.stated.path)} → <strong>{escape(review.suggested.path)}</strong>" in page
    assert f'formaction="{QUEUE}{review.pk}/accept/"' in page
    assert f'formaction="{QUEUE}{review.pk}/dismiss/"' in page
    for query in ("?status__exact=open", "?kind=library", "?kind=catalog&status__exact=dismissed"):
        assert logged_in(editor_user).get(QUEUE + query).status_code == 200
    assert logged_in(editor_user).get(f"{QUEUE}{review.pk}/change/").status_code == 200


def test_one_click_accept_recategorises_and_logs(editor_user: Any, review: CategoryReview) -> None:
    client = logged_in(editor_user)
    response = post(client, f"{QUEUE}{review.pk}/accept/")
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == CategoryReview.Status.ACCEPTED and review.reviewed_by == editor_user
    assert review.garment.category_id == review.suggested_id
    entry = LogEntry.objects.get(object_id=str(review.pk), content_type__model="categoryreview")
    assert (entry.user, entry.action_flag) == (editor_user, CHANGE)
    assert review.suggested.path in entry.get_change_message()
    assert LogEntry.objects.filter(
        object_id=str(review.garment.pk), content_type__model="catalogitem"
    ).exists()


def test_one_click_dismiss_and_the_rules_of_the_view(editor_user: Any, review: CategoryReview) -> None:
    client = logged_in(editor_user)
    assert client.get(f"{QUEUE}{review.pk}/dismiss/").status_code == 405
    assert client.post(f"{QUEUE}{review.pk}/dismiss/").status_code == 403  # no CSRF token
    assert post(client, f"{QUEUE}{review.pk}/dismiss/").status_code == 302
    review.refresh_from_db()
    assert review.status == CategoryReview.Status.DISMISSED
    assert (
        LogEntry.objects.filter(object_id=str(review.pk), content_type__model="categoryreview").count() == 1
    )


def test_bulk_actions_decide_each_selected_review(editor_user: Any, review: CategoryReview) -> None:
    client = logged_in(editor_user)
    post(client, QUEUE, {"action": "dismiss", "_selected_action": [review.pk]})
    review.refresh_from_db()
    assert review.status == CategoryReview.Status.DISMISSED
    post(client, QUEUE, {"action": "accept", "_selected_action": [review.pk]})
    review.refresh_from_db()
    assert review.status == CategoryReview.Status.ACCEPTED
    assert (
        LogEntry.objects.filter(object_id=str(review.pk), content_type__model="categoryreview").count() == 2
    )


def test_staff_without_the_change_permission_is_refused(review: CategoryReview) -> None:
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_categoryreview"))
    client = logged_in(viewer)
    page = client.get(QUEUE)
    assert page.status_code == 200 and b"/accept/" not in page.content
    assert post(client, f"{QUEUE}{review.pk}/accept/").status_code == 403
    review.refresh_from_db()
    assert review.status == CategoryReview.Status.OPEN
    assert review.garment.category_id == review.stated_id
    assert not LogEntry.objects.filter(object_id=str(review.pk)).exists()


def test_accept_buttons_show_only_where_the_user_may_recategorise_the_garment(
    review: CategoryReview,
) -> None:
    library_item, _, _ = mislabel("library")
    services.category_reviews_refresh()
    on_library = CategoryReview.objects.get(library_item=library_item, status=CategoryReview.Status.OPEN)
    accept, dismiss = f'formaction="{QUEUE}{review.pk}/accept/"', f'formaction="{QUEUE}{review.pk}/dismiss/"'
    # An editor may change reviews and library items, but only view catalog items.
    editor = get_user_model().objects.create_user("curator", password="x", is_staff=True)
    editor.groups.add(Group.objects.get(name=GROUP))
    page = logged_in(editor).get(QUEUE).content.decode()
    assert dismiss in page and accept not in page
    assert f'formaction="{QUEUE}{on_library.pk}/accept/"' in page
    # Staff who may also change catalog items get the catalog review's Accept.
    staff = get_user_model().objects.create_user("cataloguer", password="x", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_categoryreview", "change_catalogitem"])
    )
    page = logged_in(staff).get(QUEUE).content.decode()
    assert accept in page and dismiss in page
    assert f'formaction="{QUEUE}{on_library.pk}/accept/"' not in page
