"""The editors' workbench: the quality queue, the index status page, the admin log of every review
action, and the editors group (curates the library, cannot touch catalog data or API keys)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db.models import Max
from django.test import Client

from outfits import services
from outfits.editors import GROUP
from outfits.models import (
    ApiKey,
    CatalogItem,
    CategoryReview,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    QualityVerdict,
)
from tests.outfits.mislabel import mislabel

pytestmark = pytest.mark.django_db

QUEUE = "/admin/outfits/qualityqueueoutfit/"
STATUS = "/admin/outfits/indexstatus/"


def logged_in(user: Any) -> Client:
    """A browser-like client: CSRF is checked, so a POST carries the token an admin page set."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/")
    return client


def post(client: Client, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **(data or {})})


@pytest.fixture
def editor() -> Any:
    """Staff in the editors group (the group exists after migrate: outfits.editors)."""
    user = get_user_model().objects.create_user("curator", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP))
    return user


@pytest.fixture
def pending() -> list[LibraryOutfit]:
    """Two outfits waiting in the queue: one the quality filter rejected (a piece's photo), one fine."""
    outfits = list(LibraryOutfit.objects.order_by("pk")[:2])
    LibraryOutfit.objects.filter(pk__in=[o.pk for o in outfits]).update(status=LibraryOutfit.Status.PENDING)
    rejected_piece = outfits[0].items.first()
    assert rejected_piece is not None
    rejected_piece.analyses.update(quality_verdict=QualityVerdict.REJECT, quality_problems=["too dark"])
    spec = rejected_piece.analyses.get().model_spec
    services.library_outfits_refresh_quality(outfit_ids=[o.pk for o in outfits], model_spec=spec)
    for outfit in outfits:
        outfit.refresh_from_db()
    assert [o.quality_verdict for o in outfits] == [QualityVerdict.REJECT, QualityVerdict.KEEP]
    return outfits


def change_messages(outfit: LibraryOutfit) -> list[str]:
    entries = LogEntry.objects.filter(object_id=str(outfit.pk), content_type__model="libraryoutfit").order_by(
        "pk"
    )
    return [e.get_change_message() for e in entries if e.action_flag == CHANGE]


def test_the_queue_shows_pending_outfits_rejections_first_with_photos_and_reasons(
    editor: Any, pending: list[LibraryOutfit]
) -> None:
    approved = LibraryOutfit.objects.filter(status=LibraryOutfit.Status.APPROVED).first()
    assert approved is not None
    response = logged_in(editor).get(QUEUE)
    assert response.status_code == 200
    page = response.content.decode()
    rejected, fine = pending
    assert page.index(str(rejected)) < page.index(str(fine))
    assert str(approved) not in page
    assert "too dark" in page and "Quality queue: library outfits waiting for review" in page
    for item in rejected.items.all():
        assert item.image.url in page
    assert logged_in(editor).get(QUEUE + "?verdict=reject").status_code == 200


def test_approve_and_reject_in_bulk_are_logged(editor: Any, pending: list[LibraryOutfit]) -> None:
    client = logged_in(editor)
    ids = [o.pk for o in pending]
    post(client, QUEUE, {"action": "approve", "_selected_action": ids})
    assert set(LibraryOutfit.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"approved"}
    assert all(o.reviewed_by == editor for o in LibraryOutfit.objects.filter(pk__in=ids))
    # Approved outfits leave the queue; a rejected one is put back to pending and rejected.
    assert str(pending[0]) not in client.get(QUEUE).content.decode()
    LibraryOutfit.objects.filter(pk=ids[0]).update(status=LibraryOutfit.Status.PENDING)
    post(client, QUEUE, {"action": "reject", "_selected_action": [ids[0]]})
    assert LibraryOutfit.objects.get(pk=ids[0]).status == "rejected"
    assert change_messages(pending[0]) == ["Approved in the quality queue", "Rejected in the quality queue"]
    assert LogEntry.objects.filter(user=editor).count() == 3


def test_an_editors_keep_overrides_the_filters_rejection(editor: Any, pending: list[LibraryOutfit]) -> None:
    rejected = pending[0]
    post(logged_in(editor), QUEUE, {"action": "keep_despite_quality", "_selected_action": [rejected.pk]})
    rejected.refresh_from_db()
    assert rejected.quality_verdict == QualityVerdict.KEEP
    assert set(rejected.items.values_list("quality_override", flat=True)) == {QualityVerdict.KEEP}
    assert change_messages(rejected) == [
        "Kept despite the quality filter: pieces' and photo's verdict overridden"
    ]
    # The editor's word stands when the filter looks again.
    spec = rejected.items.first().analyses.get().model_spec  # type: ignore[union-attr]
    services.library_outfits_refresh_quality(outfit_ids=[rejected.pk], model_spec=spec)
    rejected.refresh_from_db()
    assert rejected.quality_verdict == QualityVerdict.KEEP


def test_staff_who_may_only_view_outfits_see_the_queue_but_cannot_act(pending: list[LibraryOutfit]) -> None:
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_libraryoutfit"))
    client = logged_in(viewer)
    page = client.get(QUEUE)
    assert page.status_code == 200 and b'value="approve"' not in page.content
    post(client, QUEUE, {"action": "approve", "_selected_action": [pending[0].pk]})
    assert LibraryOutfit.objects.get(pk=pending[0].pk).status == "pending"
    assert not LogEntry.objects.exists()
    nobody = get_user_model().objects.create_user("nobody", password="x", is_staff=True)
    assert logged_in(nobody).get(QUEUE).status_code == 403


def test_the_index_status_page_shows_the_active_build_changes_and_timings(editor: Any) -> None:
    active = IndexBuild.objects.get(active=True)
    failed = IndexBuild.objects.create(build_id="older-failed", status="failed", error="disk full")
    item = CatalogItem.objects.first()
    assert item is not None
    # One catalog item analysed again since the build started.
    started = ImageAnalysis.objects.aggregate(newest=Max("updated_at"))["newest"] + timedelta(seconds=1)
    IndexBuild.objects.filter(pk=active.pk).update(started_at=started)
    item.analyses.update(updated_at=started + timedelta(seconds=1))
    admin_index = logged_in(editor).get("/admin/").content.decode()
    assert f'href="{STATUS}"' in admin_index
    page = logged_in(editor).get(STATUS).content.decode()
    assert active.build_id in page and "(active)" in page
    assert f"{active.seconds:.1f}" in page
    assert failed.build_id in page and "disk full" in page
    assert "1 catalog item analysed since the build" in page
    assert 'id="rebuild"' in page


def test_the_rebuild_button_queues_a_build_through_the_service_and_logs_it(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(editor)
    assert client.get(STATUS + "rebuild/").status_code == 405
    assert client.post(STATUS + "rebuild/").status_code == 403  # no CSRF token
    before = IndexBuild.objects.get(active=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, STATUS + "rebuild/")
    assert response.status_code == 302 and response["Location"] == STATUS
    after = IndexBuild.objects.get(active=True)
    assert after.pk != before.pk and after.requested_by == editor
    entry = LogEntry.objects.get(content_type__model="indexbuild")
    assert (entry.user, entry.action_flag, entry.object_id) == (editor, ADDITION, str(after.pk))


def test_staff_without_the_build_permission_see_the_status_but_cannot_rebuild() -> None:
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_indexbuild"))
    client = logged_in(viewer)
    page = client.get(STATUS)
    assert page.status_code == 200 and b'id="rebuild"' not in page.content
    builds = IndexBuild.objects.count()
    assert post(client, STATUS + "rebuild/").status_code == 403
    assert IndexBuild.objects.count() == builds and not LogEntry.objects.exists()


def test_an_editor_cannot_change_catalog_items_or_api_keys(editor: Any) -> None:
    client = logged_in(editor)
    item = CatalogItem.objects.first()
    assert item is not None
    key, _ = ApiKey.issue("shop")
    assert client.get(f"/admin/outfits/catalogitem/{item.pk}/change/").status_code == 200  # may look
    title = item.title
    post(client, f"/admin/outfits/catalogitem/{item.pk}/change/", {"title": "renamed"})
    item.refresh_from_db()
    assert item.title == title
    assert client.get("/admin/outfits/catalogitem/add/").status_code == 403
    assert client.get(f"/admin/outfits/apikey/{key.pk}/change/").status_code == 403
    assert post(client, "/admin/outfits/apikey/add/", {"name": "mine", "active": "on"}).status_code == 403
    assert ApiKey.objects.count() == 1
    # ...but curates the library.
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    assert client.get(f"/admin/outfits/libraryoutfit/{outfit.pk}/change/").status_code == 200
    assert client.get("/admin/outfits/libraryitem/add/").status_code == 200


def test_an_editor_accepts_library_mislabels_but_not_catalog_ones(editor: Any) -> None:
    catalog_item, _, _ = mislabel("catalog")
    library_item, _, _ = mislabel("library")
    services.category_reviews_refresh()
    on_catalog = CategoryReview.objects.get(catalog_item=catalog_item)
    on_library = CategoryReview.objects.get(library_item=library_item)
    client = logged_in(editor)
    post(
        client,
        "/admin/outfits/categoryreview/",
        {"action": "accept", "_selected_action": [on_catalog.pk, on_library.pk]},
    )
    on_catalog.refresh_from_db()
    on_library.refresh_from_db()
    assert on_catalog.status == CategoryReview.Status.OPEN
    assert on_library.status == CategoryReview.Status.ACCEPTED
    assert CatalogItem.objects.get(pk=catalog_item.pk).category_id == on_catalog.stated_id
    assert LibraryItem.objects.get(pk=library_item.pk).category_id == on_library.suggested_id


def test_the_editors_group_command_is_idempotent_and_leaves_out_keys_and_catalog_changes() -> None:
    group = Group.objects.get(name=GROUP)
    group.permissions.add(Permission.objects.get(codename="change_apikey"))  # granted by hand
    call_command("editors_group")
    call_command("editors_group")
    codenames = set(Group.objects.get(name=GROUP).permissions.values_list("codename", flat=True))
    assert {"change_libraryoutfit", "change_categoryreview", "add_indexbuild"} <= codenames
    assert not codenames & {"change_apikey", "view_apikey", "change_catalogitem", "add_catalogitem"}
