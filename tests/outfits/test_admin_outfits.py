"""Library outfits as outfits in the admin: the grid of outfit cards and the outfit builder."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from outfits.admin_outfits import piece_readings, piece_title
from outfits.models import ImageAnalysis, LibraryItem, LibraryOutfit

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/outfits/libraryoutfit/"


@pytest.fixture
def editor_client(editor_user: Any) -> Client:
    client = Client()
    client.force_login(editor_user)
    return client


Piece = tuple[int | None, int, int, bool]


def builder_post(outfit: LibraryOutfit, pieces: Sequence[Piece]) -> dict[str, Any]:
    """The change form as a browser posts it: (membership id or None for a new piece, item id,
    position, delete?) per piece row."""
    existing = sum(1 for pk, *_ in pieces if pk is not None)
    data: dict[str, Any] = {
        "external_id": outfit.external_id,
        "source": outfit.source,
        "status": outfit.status,
        "quality_verdict": outfit.quality_verdict,
        "memberships-TOTAL_FORMS": len(pieces),
        "memberships-INITIAL_FORMS": existing,
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for i, (pk, item_id, position, delete) in enumerate(pieces):
        data |= {
            f"memberships-{i}-id": pk or "",
            f"memberships-{i}-outfit": outfit.pk,
            f"memberships-{i}-item": item_id,
            f"memberships-{i}-position": position,
        }
        if delete:
            data[f"memberships-{i}-DELETE"] = "on"
    return data


def pieces_in_order(outfit: LibraryOutfit) -> list[int]:
    return list(outfit.memberships.order_by("position", "pk").values_list("item_id", flat=True))


def test_the_changelist_is_a_grid_of_outfit_cards_with_their_pieces(editor_client: Client) -> None:
    page = editor_client.get(CHANGELIST).content.decode()
    outfits = list(LibraryOutfit.objects.order_by("-pk")[:60])
    assert len(outfits) >= 10, "the test shop has outfits"
    assert page.count('<tr class="outfit-card"') == min(LibraryOutfit.objects.count(), 60)
    for outfit in outfits:
        assert f'data-outfit="{outfit.pk}"' in page
        assert f'name="_selected_action" value="{outfit.pk}"' in page, "actions still select cards"
        for item in outfit.items.select_related("category"):
            assert f'title="{item.external_id}: ' in page
            assert item.image.url in page
            assert f"{item.category.slot} · {item.category.name}" in page


def test_a_piece_is_titled_by_the_garment_in_words_with_its_id_on_hover(editor_client: Client) -> None:
    outfit = LibraryOutfit.objects.order_by("-pk").first()
    assert outfit is not None
    item = outfit.items.order_by("pk").first()
    assert item is not None
    ImageAnalysis.objects.filter(library_item=item).update(description="pleated linen midi skirt")
    page = editor_client.get(CHANGELIST).content.decode()
    assert f'title="{item.external_id}: Pleated linen midi skirt">Pleated linen midi skirt</span>' in page
    assert 'alt="Pleated linen midi skirt"' in page


def test_the_grid_shows_each_pieces_quality_verdict_and_an_editors_override(editor_client: Client) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    item = outfit.items.first()
    assert item is not None
    LibraryItem.objects.filter(pk=item.pk).update(quality_override="reject")
    page = editor_client.get(f"{CHANGELIST}?q={outfit.external_id}").content.decode()
    card = page[page.index(f'data-outfit="{outfit.pk}"') :]
    card = card[: card.index("</tr>")]
    assert 'class="quality quality-reject">reject' in card and "(editor)" in card


def test_the_grid_keeps_filters_and_search(editor_client: Client) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    LibraryOutfit.objects.filter(pk=outfit.pk).update(status=LibraryOutfit.Status.REJECTED)
    page = editor_client.get(f"{CHANGELIST}?status__exact=rejected").content.decode()
    assert page.count('<tr class="outfit-card"') == LibraryOutfit.objects.filter(status="rejected").count()
    page = editor_client.get(f"{CHANGELIST}?q={outfit.external_id}").content.decode()
    assert f'data-outfit="{outfit.pk}"' in page


def test_a_page_of_cards_costs_a_fixed_number_of_queries(
    editor_client: Client, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(12):
        assert editor_client.get(CHANGELIST).status_code == 200


def test_the_builder_shows_photos_and_reorder_buttons_script(editor_client: Client) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    page = editor_client.get(f"{CHANGELIST}{outfit.pk}/change/").content.decode()
    assert "outfits/admin/outfit_builder.js" in page
    readings = piece_readings([item.pk for item in outfit.items.all()])
    for item in outfit.items.all():
        title = piece_title(item, readings[item.pk])
        assert title != item.external_id, "the test shop's pieces are analysed: named in words"
        assert f'class="outfit-piece-photo" src="{item.image.url}" alt="{title}"' in page


def test_the_builder_searches_library_items_by_slot_with_their_photos(editor_client: Client) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    page = editor_client.get(f"{CHANGELIST}{outfit.pk}/change/").content.decode()
    # Started by outfit_builder.js (with photos), not by Django's autocomplete.js.
    assert f'data-ajax--url="{CHANGELIST}pieces/search/"' in page and 'class="piece-search"' in page
    assert 'class="admin-autocomplete"' not in page
    query = {"app_label": "outfits", "model_name": "libraryoutfititem", "field_name": "item", "term": "shoes"}
    results = json.loads(editor_client.get(f"{CHANGELIST}pieces/search/", query).content)["results"]
    shoes = LibraryItem.objects.filter(category__slot="shoes").select_related("category")
    by_pk = {item.pk: item for item in shoes}
    assert results and {int(row["id"]) for row in results} <= set(by_pk)
    for row in results:
        item = by_pk[int(row["id"])]
        assert row["text"] == str(item) and row["image"] == item.image.url
        assert row["slot"] == f"shoes · {item.category.name}"
    outsider = get_user_model().objects.create_user("outsider", password="x", is_staff=True)
    outsider.user_permissions.add(Permission.objects.get(codename="view_libraryoutfit"))
    client = Client()
    client.force_login(outsider)
    assert client.get(f"{CHANGELIST}pieces/search/", query).status_code == 403


def test_the_builder_adds_reorders_and_removes_pieces_and_logs_it(editor_client: Client) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    memberships = list(outfit.memberships.order_by("position", "pk"))
    assert len(memberships) >= 2
    first, second, *rest = memberships
    newcomer = LibraryItem.objects.exclude(outfits=outfit).first()
    assert newcomer is not None
    pieces = [
        (second.pk, second.item_id, 0, False),  # moved up
        (first.pk, first.item_id, 1, False),  # moved down
        *((m.pk, m.item_id, 2 + i, i == 0) for i, m in enumerate(rest)),  # the third one removed
        (None, newcomer.pk, 9, False),  # added last
    ]
    response = editor_client.post(f"{CHANGELIST}{outfit.pk}/change/", builder_post(outfit, pieces))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert pieces_in_order(outfit) == [
        second.item_id,
        first.item_id,
        *(m.item_id for m in rest[1:]),
        newcomer.pk,
    ]
    entry = LogEntry.objects.get(object_id=str(outfit.pk), action_flag=CHANGE)
    message = entry.get_change_message()
    assert f"Added library outfit item “{outfit} ∋ {newcomer}”" in message
    assert f"Changed Position for library outfit item “{outfit} ∋ {first.item}”" in message
    assert not rest or f"Deleted library outfit item “{outfit} ∋ {rest[0].item}”" in message


def test_a_user_without_the_change_permission_cannot_edit_an_outfit(db: None) -> None:
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_libraryoutfit"))
    client = Client()
    client.force_login(viewer)
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    before = pieces_in_order(outfit)
    page = client.get(f"{CHANGELIST}{outfit.pk}/change/").content.decode()
    assert "memberships-TOTAL_FORMS" not in page, "no builder form for a viewer"
    assert "memberships-0-position" not in page
    memberships = list(outfit.memberships.order_by("position", "pk"))
    pieces = [(m.pk, m.item_id, len(memberships) - i, False) for i, m in enumerate(memberships)]
    response = client.post(f"{CHANGELIST}{outfit.pk}/change/", builder_post(outfit, pieces))
    assert response.status_code == 403
    assert pieces_in_order(outfit) == before
    assert not LogEntry.objects.filter(object_id=str(outfit.pk)).exists()
    page = client.get(CHANGELIST).content.decode()
    assert f'data-outfit="{outfit.pk}"' in page, "a viewer still sees the grid"


def test_the_builder_previews_a_picked_piece(editor_client: Client) -> None:
    item = LibraryItem.objects.select_related("category").first()
    assert item is not None
    answer = editor_client.get(f"{CHANGELIST}pieces/{item.pk}/preview/")
    assert answer.status_code == 200
    piece = json.loads(answer.content)
    assert piece["image"] == item.image.url and piece["slot"] == item.category.slot
    assert editor_client.get(f"{CHANGELIST}pieces/0/preview/").status_code == 404


def test_the_piece_preview_needs_the_right_to_view_library_items(db: None) -> None:
    outsider = get_user_model().objects.create_user("outsider", password="x", is_staff=True)
    outsider.user_permissions.add(Permission.objects.get(codename="view_libraryoutfit"))
    client = Client()
    client.force_login(outsider)
    item = LibraryItem.objects.first()
    assert item is not None
    answer = client.get(f"{CHANGELIST}pieces/{item.pk}/preview/")
    assert answer.status_code == 403 and "detail" in json.loads(answer.content)
