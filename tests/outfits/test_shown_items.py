"""What suggestion rows show of the library outfits they cite (outfits.shown_items)."""

from __future__ import annotations

import pytest

from outfits import shown_items
from outfits.models import LibraryOutfit

pytestmark = pytest.mark.django_db


def test_an_outfit_added_without_a_version_bump_is_still_cited() -> None:
    known = LibraryOutfit.objects.create(external_id="known", source="tests")
    assert set(shown_items.outfit_refs([known.pk])) == {known.pk}  # the process reads every reference
    # bulk_create sends no save signal, so the catalog version (and the cached references) stay as
    # they were; so does a save while Redis is down.
    (added,) = LibraryOutfit.objects.bulk_create([LibraryOutfit(external_id="added", source="tests")])
    refs = shown_items.outfit_refs([known.pk, added.pk])
    assert refs[added.pk]["external_id"] == "added" and set(refs) == {known.pk, added.pk}
