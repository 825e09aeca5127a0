"""The quality filter in the shop: verdicts stored per photo, rejected photos never feed
suggestions, editors override."""

from __future__ import annotations

import pytest

from outfits import selectors, services
from outfits.models import ImageAnalysis, LibraryItem, LibraryOutfit
from tests.vision.test_quality_filter import catalog_photo
from vision.quality_filter import train_quality_filter

pytestmark = pytest.mark.django_db


def _an_approved_outfit() -> tuple[LibraryOutfit, LibraryItem, str]:
    outfit = LibraryOutfit.objects.filter(status="approved").order_by("pk")[0]
    piece = outfit.items.order_by("pk")[0]
    spec = selectors.newest_model_spec()
    assert spec is not None
    return outfit, piece, spec


def test_an_outfit_with_a_rejected_photo_feeds_no_suggestion_until_an_editor_keeps_it() -> None:
    outfit, piece, spec = _an_approved_outfit()
    assert outfit.pk in {p.outfit for p in selectors.library_pieces_for([piece.pk])[piece.pk]}
    ImageAnalysis.objects.filter(library_item=piece, model_spec=spec).update(quality_verdict="reject")
    services.library_outfits_refresh_quality(outfit_ids=[outfit.pk], model_spec=spec)
    outfit.refresh_from_db()
    assert outfit.quality_verdict == "reject"
    assert outfit.pk not in {p.outfit for p in selectors.library_pieces_for([piece.pk]).get(piece.pk, [])}

    assert services.library_items_override_quality(item_ids=[piece.pk], verdict="keep", model_spec=spec) == 1
    outfit.refresh_from_db()
    assert outfit.quality_verdict != "reject"
    assert outfit.pk in {p.outfit for p in selectors.library_pieces_for([piece.pk])[piece.pk]}


def test_an_editor_can_reject_a_photo_the_filter_kept() -> None:
    outfit, piece, spec = _an_approved_outfit()
    services.library_items_override_quality(item_ids=[piece.pk], verdict="reject", model_spec=spec)
    outfit.refresh_from_db()
    assert outfit.quality_verdict == "reject"
    with pytest.raises(ValueError, match="unknown quality verdict"):
        services.library_items_override_quality(item_ids=[piece.pk], verdict="maybe", model_spec=spec)


def test_analysis_stores_the_learned_filters_verdict_and_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    count = 40
    learned, _ = train_quality_filter(
        (catalog_photo(i) for i in range(count)),
        ids=[f"item-{i}" for i in range(count)],
        seed=0,
        model_params={"max_iter": 30},
    )
    monkeypatch.setattr(services, "quality_filter", lambda: learned)
    piece = LibraryItem.objects.order_by("pk")[0]
    outcome = services.garments_analyze(kind="library", ids=[piece.pk], force=True)
    analysis = ImageAnalysis.objects.get(library_item=piece, model_spec=outcome.model_spec)
    assert analysis.quality_method == learned.build_id
    assert analysis.quality_verdict in {"keep", "reject"}
    assert analysis.quality_score is not None
    assert (analysis.quality_verdict == "reject") == (analysis.quality_score < learned.threshold)
    assert bool(analysis.quality_problems) == (analysis.quality_verdict == "reject")
