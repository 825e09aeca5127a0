"""The mislabel audit: `manage.py audit_categories` and the review services behind it, on the
session shop analysed by the real tiny model."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from outfits import services
from outfits.models import CatalogItem, CategoryReview, ImageAnalysis
from tests.outfits.mislabel import mislabel

pytestmark = pytest.mark.django_db


def audit(*args: str) -> list[str]:
    out = io.StringIO()
    call_command("audit_categories", *args, stdout=out)
    return out.getvalue().splitlines()


def test_lists_a_mislabelled_garment_with_the_model_suggestion(tmp_path: Path) -> None:
    item, _, predicted = mislabel("catalog")
    lines = audit("--json", str(tmp_path / "audit.json"))
    ranked = json.loads((tmp_path / "audit.json").read_text())
    found = [row for row in ranked if row["external_id"] == item.external_id]
    assert found == [
        {
            "external_id": item.external_id,
            "kind": "catalog",
            "stated": item.category.path,
            "suggested": predicted.path,
            "confidence": pytest.approx(found[0]["confidence"]),
        }
    ]
    assert 0 < found[0]["confidence"] < 1
    assert [row["confidence"] for row in ranked] == sorted(
        (row["confidence"] for row in ranked), reverse=True
    )
    printed = [line for line in lines if line.startswith(f"{item.external_id}  ")]
    assert printed == [
        f"{item.external_id}  {item.category.path}  →  {predicted.path}  {found[0]['confidence']:.3f}"
    ]
    assert f"{len(ranked)} open reviews" in lines[-1]
    assert "not weighed" not in lines[-1]  # the tiny model's manifest carries its validation confusion


def test_kind_and_limit(tmp_path: Path) -> None:
    library_item, _, _ = mislabel("library")
    catalog_item, _, _ = mislabel("catalog")
    audit("--kind", "library", "--json", str(tmp_path / "library.json"))
    listed = {row["external_id"] for row in json.loads((tmp_path / "library.json").read_text())}
    assert library_item.external_id in listed and catalog_item.external_id not in listed
    assert {r["kind"] for r in json.loads((tmp_path / "library.json").read_text())} == {"library"}
    assert len(audit("--limit", "1")) == 2  # one review and the summary


def test_a_dismissed_suggestion_stays_dismissed() -> None:
    item, _, _ = mislabel("catalog")
    services.category_reviews_refresh(kind="catalog")
    review = CategoryReview.objects.get(catalog_item=item)
    decision = services.category_review_dismiss(review_ids=[review.pk], reviewer=None)
    assert decision.reviews == (review.pk,)
    again = services.category_reviews_refresh(kind="catalog")
    assert again.closed >= 1
    review.refresh_from_db()
    assert review.status == CategoryReview.Status.DISMISSED
    assert not any(line.startswith(f"{item.external_id}  ") for line in audit())


def test_accepting_moves_the_garment_and_keeps_everything_else(editor_user: Any) -> None:
    item, _, predicted = mislabel("catalog")
    assert isinstance(item, CatalogItem)
    services.category_reviews_refresh()
    review = CategoryReview.objects.get(catalog_item=item, status=CategoryReview.Status.OPEN)
    before = CatalogItem.objects.values().get(pk=item.pk)
    decision = services.category_review_accept(review_ids=[review.pk], reviewer=editor_user)
    assert decision.reviews == (review.pk,) and decision.slots_changed == 1
    after = CatalogItem.objects.values().get(pk=item.pk)
    assert after["category_id"] == predicted.pk
    assert {k: v for k, v in after.items() if k not in {"category_id", "updated_at"}} == {
        k: v for k, v in before.items() if k not in {"category_id", "updated_at"}
    }
    assert item.analyses.exists()
    review.refresh_from_db()
    assert (review.status, review.reviewed_by, review.reviewed_at is not None) == (
        "accepted",
        editor_user,
        True,
    )
    # The garment now agrees with the model: nothing reopens, and a second accept does nothing.
    services.category_reviews_refresh()
    assert not CategoryReview.objects.filter(catalog_item=item, status=CategoryReview.Status.OPEN).exists()
    assert services.category_review_accept(review_ids=[review.pk], reviewer=editor_user).skipped == 1


def test_an_open_review_goes_when_the_disagreement_does() -> None:
    item, before, _ = mislabel("catalog")
    wrong = item.category
    services.category_reviews_refresh()
    assert CategoryReview.objects.filter(catalog_item=item, stated=wrong, status="open").exists()
    item.category = before
    item.save(update_fields=["category"])
    assert services.category_reviews_refresh().removed >= 1
    assert not CategoryReview.objects.filter(catalog_item=item, stated=wrong).exists()


def test_without_a_trained_model_the_command_fails(settings: Any, tmp_path: Path) -> None:
    settings.MODELS_DIR = tmp_path / "models"
    with pytest.raises(CommandError, match="no trained garment model") as raised:
        audit()
    assert raised.value.returncode == 1


def test_without_classified_garments_the_command_fails() -> None:
    ImageAnalysis.objects.update(predicted_category=None, predictions={})
    with pytest.raises(CommandError, match="analyze_garments") as raised:
        audit()
    assert raised.value.returncode == 1
