from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from outfits import selectors, services
from outfits.models import CatalogItem, IndexBuild, LibraryOutfit
from tests.factories import garment_photo, sell_out

pytestmark = pytest.mark.django_db


def _a(slot: str) -> CatalogItem:
    return CatalogItem.objects.filter(category__slot=slot).order_by("pk").first()  # type: ignore[return-value]


def test_suggests_bottoms_for_a_top_with_the_outfits_behind_them(storefront: APIClient) -> None:
    top = _a("top")
    query: dict[str, str | int] = {"slot": "bottom", "k": 5, "diversity": 0}
    response = storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/", query)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["item"]["id"] == top.external_id
    assert body["method"] == "library"  # no compatibility model in this build
    assert body["reason"] is None and body["empty_slots"] == {}
    assert body["model_spec"].startswith("ctl-garment-effnetlite0-minilm@")
    suggestions = body["suggestions"]
    assert 1 <= len(suggestions) <= 5
    assert {s["slot"] for s in suggestions} == {"bottom"}
    assert all(s["item"]["slot"] == "bottom" for s in suggestions)
    assert all(1 <= len(s["outfits"]) <= 3 for s in suggestions), "each cites up to 3 library outfits"
    scores = [s["score"] for s in suggestions]
    assert scores == sorted(scores, reverse=True)
    cited = {o["id"] for s in suggestions for o in s["outfits"]}
    assert set(LibraryOutfit.objects.filter(pk__in=cited).values_list("status", flat=True)) == {"approved"}


def test_without_a_slot_every_complementary_slot_is_filled(storefront: APIClient) -> None:
    top = _a("top")
    body = storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/", {"k": 3}).json()
    slots = {s["slot"] for s in body["suggestions"]}
    assert "bottom" in slots and "shoes" in slots
    assert "top" not in slots


def test_rejected_outfits_stop_supporting_suggestions_from_the_next_build(storefront: APIClient) -> None:
    top = _a("top")
    outfits = list(LibraryOutfit.objects.values_list("pk", flat=True))
    assert services.library_outfits_review(outfit_ids=outfits, status="rejected", reviewer=None) == len(
        outfits
    )
    (queued,) = IndexBuild.objects.filter(status=IndexBuild.Status.PENDING)
    services.index_build_run(build_pk=queued.pk)
    body = storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/", {"slot": "bottom"}).json()
    assert body["suggestions"] == []
    assert body["reason"] == "no approved library outfit reaches this garment"
    assert body["empty_slots"] == {"bottom": body["reason"]}


def test_sold_out_items_are_never_suggested(storefront: APIClient) -> None:
    top = _a("top")
    url = f"/api/v1/items/{top.external_id}/complete-the-look/"
    query: dict[str, str | int] = {"slot": "bottom", "k": 3}
    first = storefront.get(url, query).json()["suggestions"][0]["item"]["id"]
    sell_out(first)
    again = storefront.get(url, query).json()["suggestions"]
    assert first not in {s["item"]["id"] for s in again}


def test_similar_items_share_the_slot_and_exclude_the_item(storefront: APIClient) -> None:
    top = _a("top")
    body = storefront.get(f"/api/v1/items/{top.external_id}/similar/", {"k": 4}).json()
    assert 1 <= len(body["similar"]) <= 4
    assert all(row["item"]["slot"] == "top" for row in body["similar"])
    assert top.external_id not in {row["item"]["id"] for row in body["similar"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"slot": "hat"}, "slot"),
        ({"k": 0}, "k"),
        ({"k": 500}, "k"),
        ({"k": "many"}, "k"),
        ({"method": "magic"}, "method"),
        ({"diversity": 1.5}, "diversity"),
        ({"price_min": 50, "price_max": 10}, "price_min"),
        ({"price_max": -1}, "price_max"),
        ({"in_stock_only": "perhaps"}, "in_stock_only"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(
    storefront: APIClient, params: dict[str, str | int], field: str
) -> None:
    top = _a("top")
    response = storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/", params)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert field in response.json()["detail"]


def test_unknown_item_is_a_404(storefront: APIClient) -> None:
    response = storefront.get("/api/v1/items/NO-SUCH-ITEM/complete-the-look/")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_no_index_yet_is_a_503_that_says_so(storefront: APIClient) -> None:
    IndexBuild.objects.update(active=False)
    response = storefront.get(f"/api/v1/items/{_a('top').external_id}/complete-the-look/")
    assert response.status_code == 503
    assert "index" in response.json()["detail"]


def test_an_item_not_analysed_yet_is_a_409(storefront: APIClient) -> None:
    top = _a("top")
    top.analyses.all().delete()
    # Still in the active build, which answers for it until it is analysed again.
    assert storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/").status_code == 200
    top.pk, top.external_id = None, "new-top-not-analysed"
    top.save()  # a new item: neither analysed nor in the build
    response = storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/")
    assert response.status_code == 409
    assert "analysed" in response.json()["detail"]


def test_a_slot_that_cannot_complete_the_item_is_a_400_naming_those_that_can(storefront: APIClient) -> None:
    top = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert top is not None
    response = storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/", {"slot": "top"})
    assert response.status_code == 400
    assert "a top is not completed by a top; ask for one of: bottom, shoes, bag, outerwear" in str(
        response.json()
    )


def test_a_look_asking_a_dress_for_a_bottom_is_refused_at_upload(storefront: APIClient) -> None:
    photo = SimpleUploadedFile("dress.jpg", garment_photo("Dresses", "Dress", (150, 30, 40)), "image/jpeg")
    response = storefront.post(
        "/api/v1/looks/",
        {"photo": photo, "garment_slot": "dress", "wanted_slots": ["bottom"]},
        format="multipart",
    )
    assert response.status_code == 400
    assert "a dress is not completed by a bottom" in str(response.json()["errors"]["wanted_slots"])


def test_an_answer_names_its_build_in_a_header(storefront: APIClient) -> None:
    top = _a("top")
    asked = [
        storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/"),
        storefront.get(f"/api/v1/items/{top.external_id}/complete-the-look/"),  # from the answer cache
        storefront.get(f"/api/v1/items/{top.external_id}/similar/"),
        storefront.post("/api/v1/complete-the-look/", {"items": [top.external_id]}, format="json"),
    ]
    active = IndexBuild.objects.get(active=True).build_id
    for response in asked:
        assert response.status_code == 200, response.content
        assert response["X-Index-Build"] == response.json()["build_id"] == active


@pytest.mark.parametrize("endpoint", ["complete-the-look", "similar"])
def test_a_build_swapped_in_mid_request_does_not_file_its_answer_under_the_old_build(
    storefront: APIClient, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    """A web process asks which build is active at most every CTL_ACTIVE_BUILD_TTL seconds: a new
    build may become active between two of a request's reads. Its answer must come from one build
    and be cached under that build: a process still serving the old one must never be handed the
    new one's answer (nor the reverse)."""
    old = selectors.active_index()
    build = services.index_build_request(enqueue=False)
    services.index_build_run(build_pk=build.pk)
    new = selectors.active_index()
    assert old is not None and new is not None
    assert old.manifest.build_id != new.manifest.build_id
    path = f"/api/v1/items/{_a('top').external_id}/{endpoint}/"
    # The first read of the request sees the old build, any later read the new one.
    reads = iter([old])
    monkeypatch.setattr(selectors, "active_index", lambda **_: next(reads, new))
    first = storefront.get(path)
    # A process still on the old build asks the same.
    monkeypatch.setattr(selectors, "active_index", lambda **_: old)
    again = storefront.get(path)
    assert first.status_code == again.status_code == 200
    assert again.json()["build_id"] == old.manifest.build_id
    assert first["X-Index-Build"] == first.json()["build_id"]
    assert again["X-Index-Build"] == old.manifest.build_id
