"""Complete the look with the compatibility model in the build: the blend, the shop's filters,
diversity, reasons, partial outfits (POST), and payload size."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from outfits import services
from outfits.compat import compat_train
from outfits.models import CatalogItem, IndexBuild
from outfits.selectors import newest_model_spec
from outfits.suggestions import DEFAULT_DIVERSITY
from recsys.compat.train import CompatSettings
from tests.factories import garment_photo, sell_out

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def compat_models(
    tmp_path_factory: pytest.TempPathFactory, django_db_setup: None, django_db_blocker: Any
) -> Path:
    """A models folder holding the session's garment model and a compatibility model trained once on
    the small shop's library (seconds), its blend fitted on validation outfits."""
    models = tmp_path_factory.mktemp("compat-models")
    (models / "garment").symlink_to(Path(django_settings.MODELS_DIR) / "garment", target_is_directory=True)
    with override_settings(MODELS_DIR=models), django_db_blocker.unblock():
        spec = newest_model_spec()
        assert spec is not None
        compat_train(
            model_spec=spec,
            compat_settings=CompatSettings(max_epochs=4, patience=4, validation_share=0.2, seed=0),
            report=lambda line: None,
        )
    return models


@pytest.fixture
def blended(settings: Any, compat_models: Path, tmp_path: Path) -> Iterator[IndexBuild]:
    """An active build holding the compatibility model's catalog vectors (this test's own files)."""
    settings.MODELS_DIR = compat_models
    settings.INDEX_DIR = tmp_path / "indexes"
    build = services.index_build_request(enqueue=False)
    done = services.index_build_run(build_pk=build.pk)
    assert done is not None and done.status == "ready", done and done.error
    yield done


def _a(slot: str, nth: int = 0) -> CatalogItem:
    return CatalogItem.objects.filter(category__slot=slot).order_by("pk")[nth]


def _ctl(client: APIClient, item: CatalogItem, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/items/{item.external_id}/complete-the-look/", params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_the_default_is_the_blend_of_both_methods(storefront: APIClient, blended: IndexBuild) -> None:
    body = _ctl(storefront, _a("top"), slot="bottom", k=5, diversity=0)
    assert body["method"] == "blend" and body["build_id"] == blended.build_id
    scores = [s["score"] for s in body["suggestions"]]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert all(s["item"]["slot"] == "bottom" for s in body["suggestions"])
    assert all(len(s["outfits"]) <= 3 and isinstance(s["matches"], list) for s in body["suggestions"])


def test_each_method_can_be_asked_for(storefront: APIClient, blended: IndexBuild) -> None:
    top = _a("top")
    answers = {m: _ctl(storefront, top, slot="bottom", k=4, method=m) for m in ("compat", "library", "blend")}
    assert {m: a["method"] for m, a in answers.items()} == {m: m for m in answers}
    assert all(a["suggestions"] for a in answers.values())
    # the library method cites the outfits behind every pick; the compatibility model needs none
    assert all(s["outfits"] for s in answers["library"]["suggestions"])


def test_compat_without_a_model_in_the_build_is_a_409_saying_what_to_do(storefront: APIClient) -> None:
    url = f"/api/v1/items/{_a('top').external_id}/complete-the-look/"
    response = storefront.get(url, {"method": "compat"})
    assert response.status_code == 409
    assert "train_compat" in response.json()["detail"]


def test_the_shops_filters_apply(storefront: APIClient, blended: IndexBuild) -> None:
    top = _a("top")
    everything = _ctl(storefront, top, slot="shoes", k=8)["suggestions"]
    prices = sorted(float(s["item"]["price"]) for s in everything)
    ceiling = prices[len(prices) // 2]
    cheap = _ctl(storefront, top, slot="shoes", k=8, price_max=ceiling)["suggestions"]
    assert cheap and all(float(s["item"]["price"]) <= ceiling for s in cheap)
    brand = everything[0]["item"]["brand"]
    excluded = _ctl(storefront, top, slot="shoes", exclude_brand=brand)
    assert excluded["suggestions"] == [] and "passes the filters" in excluded["reason"]
    assert _ctl(storefront, top, slot="shoes", brand=brand.upper())["suggestions"]
    assert _ctl(storefront, top, slot="shoes", gender="male")["suggestions"] == []  # the shop is womenswear
    best = everything[0]["item"]["id"]
    sell_out(best)
    assert best not in {s["item"]["id"] for s in _ctl(storefront, top, slot="shoes")["suggestions"]}
    with_sold_out = _ctl(storefront, top, slot="shoes", in_stock_only="false", diversity=0)
    assert best in {s["item"]["id"] for s in with_sold_out["suggestions"]}


def test_diversity_spreads_a_row_over_different_looks(storefront: APIClient, blended: IndexBuild) -> None:
    top = _a("top")
    kept = [s["item"]["id"] for s in _ctl(storefront, top, slot="bottom", k=4, diversity=0)["suggestions"]]
    varied = [s["item"]["id"] for s in _ctl(storefront, top, slot="bottom", k=4, diversity=1)["suggestions"]]
    assert kept[0] == varied[0]  # the best stays first
    assert kept != varied
    assert DEFAULT_DIVERSITY > 0


def test_k_8_over_every_slot_stays_well_under_20_kb(storefront: APIClient, blended: IndexBuild) -> None:
    response = storefront.get(f"/api/v1/items/{_a('top').external_id}/complete-the-look/", {"k": 8})
    body = response.json()
    assert len({s["slot"] for s in body["suggestions"]}) >= 3
    assert len(response.content) < 20_000, len(response.content)


def test_a_partial_outfit_is_completed_by_what_it_lacks(storefront: APIClient, blended: IndexBuild) -> None:
    top, bottom = _a("top"), _a("bottom")
    response = storefront.post(
        "/api/v1/complete-the-look",
        {"items": [top.external_id, bottom.external_id], "k": 3},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert [i["id"] for i in body["items"]] == [top.external_id, bottom.external_id]
    slots = {s["slot"] for s in body["suggestions"]}
    assert slots and slots <= {"shoes", "bag", "outerwear"}
    assert body["method"] == "blend"


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"items": []}, "items", "at least one"),
        ({"items": ["NO-SUCH"]}, "items", "no catalog item NO-SUCH"),
        ({"looks": ["00000000-0000-0000-0000-000000000000"]}, "looks", "no look"),
        ({"items": ["x"] * 11}, "items", "no more than 10"),
        ({"items": "C0001"}, "items", "list"),
    ],
)
def test_a_bad_partial_outfit_is_a_400_naming_the_field(
    storefront: APIClient, payload: dict[str, Any], field: str, words: str
) -> None:
    response = storefront.post("/api/v1/complete-the-look/", payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"] and words in json.dumps(response.json())


def test_asking_an_outfit_for_a_slot_it_holds_names_the_slots_that_can(
    storefront: APIClient, blended: IndexBuild
) -> None:
    items = [_a("top").external_id, _a("bottom").external_id]
    payload = {"items": items, "slots": ["top"]}
    response = storefront.post("/api/v1/complete-the-look/", payload, format="json")
    assert response.status_code == 400
    assert "ask for one of: shoes, bag, outerwear" in str(response.json()["errors"]["slots"])


def test_a_finished_look_joins_a_partial_outfit(
    storefront: APIClient, blended: IndexBuild, django_capture_on_commit_callbacks: Any
) -> None:
    photo = SimpleUploadedFile("jeans.jpg", garment_photo("Bottoms", "Jeans", (40, 60, 120)), "image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):  # the upload's analysis runs on commit
        upload = {"photo": photo, "garment_slot": "bottom"}
        look = storefront.post("/api/v1/looks/", upload, format="multipart")
    look = storefront.get(f"/api/v1/looks/{look.json()['id']}/")
    assert look.json()["status"] == "done", look.content
    assert look.json()["result"]["method"] == "blend"
    response = storefront.post(
        "/api/v1/complete-the-look/",
        {"items": [_a("top").external_id], "looks": [look.json()["id"]], "k": 2},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert {s["slot"] for s in response.json()["suggestions"]} <= {"shoes", "bag", "outerwear"}


def test_a_look_of_no_garment_cannot_join_an_outfit(
    storefront: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 200, 200)).save(blank, format="JPEG")
    photo = SimpleUploadedFile("wall.jpg", blank.getvalue(), "image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        look = storefront.post("/api/v1/looks/", {"photo": photo}, format="multipart")
    response = storefront.post(
        "/api/v1/complete-the-look/",
        {"items": [_a("top").external_id], "looks": [look.json()["id"]]},
        format="json",
    )
    assert response.status_code == 409
    assert "shows no garment" in str(response.json())
