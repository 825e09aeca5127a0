from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import pytest
from django.conf import settings
from django.core.management import call_command

from outfits import selectors, services
from outfits.models import CatalogItem, IndexBuild, LibraryItem

pytestmark = pytest.mark.django_db


def test_the_active_build_covers_every_slot_with_a_manifest() -> None:
    build = IndexBuild.objects.get(active=True)
    manifest = json.loads((Path(settings.INDEX_DIR) / build.build_id / "manifest.json").read_text())
    assert manifest["model_spec"] == build.model_spec
    assert manifest["counts"]["catalog/top"] == CatalogItem.objects.filter(category__slot="top").count()
    assert manifest["counts"]["library/bottom"] == LibraryItem.objects.filter(category__slot="bottom").count()


def test_a_rebuild_swaps_in_and_readers_follow(capsys: pytest.CaptureFixture[str]) -> None:
    old = IndexBuild.objects.get(active=True)
    assert selectors.active_index() is not None
    call_command("build_index")
    assert "active" in capsys.readouterr().out
    new = IndexBuild.objects.get(active=True)
    assert new.build_id != old.build_id and new.seconds is not None
    index = selectors.active_index()
    assert index is not None and index.manifest.build_id == new.build_id
    assert not list(Path(settings.INDEX_DIR).glob("*.part"))


def test_a_build_is_claimed_once() -> None:
    build = services.index_build_request(enqueue=False)
    assert services.index_build_run(build_pk=build.pk) is not None
    assert services.index_build_run(build_pk=build.pk) is None


def test_analysis_is_idempotent_under_one_model() -> None:
    ids = list(CatalogItem.objects.values_list("pk", flat=True)[:5])
    outcome = services.garments_analyze(kind="catalog", ids=ids)
    assert outcome.analysed == 0 and outcome.skipped == 5
    forced = services.garments_analyze(kind="catalog", ids=ids, force=True)
    assert forced.analysed == 5
    assert CatalogItem.objects.get(pk=ids[0]).analyses.count() == 1


def test_a_library_outfit_takes_its_weakest_photos_quality() -> None:
    from outfits.models import LibraryOutfit

    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    # Every analysed photo here has a quality score; the column is nullable only for failed analyses.
    weakest = min(cast(float, a.quality_score) for item in outfit.items.all() for a in item.analyses.all())
    assert outfit.quality_score == pytest.approx(weakest)
