"""Who curates: the "editors" group. Editors curate the library (outfits, their pieces and photos,
the quality queue, the mislabel reviews) and may rebuild the index; catalog data (items, categories)
and API keys stay with staff given those models' permissions one by one."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction

log = logging.getLogger(__name__)

GROUP = "editors"

# (model, actions) of the outfits app. Catalog items, categories and analyses: to look at only;
# API keys: not at all.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "libraryoutfit": ("view", "add", "change", "delete"),
    "libraryoutfititem": ("view", "add", "change", "delete"),
    "libraryitem": ("view", "add", "change"),
    "outfitphoto": ("view", "add", "change"),
    "categoryreview": ("view", "change"),
    "indexbuild": ("view", "add"),
    "catalogitem": ("view",),
    "category": ("view",),
    "imageanalysis": ("view",),
}


@transaction.atomic
def editors_group_sync() -> tuple[Group, int]:
    """Create the group if missing and give it exactly PERMISSIONS (a grant added by hand is taken
    away: the list here is the one record). Idempotent. Returns the group and how many it holds."""
    group, _ = Group.objects.get_or_create(name=GROUP)
    codenames = {f"{action}_{model}" for model, actions in PERMISSIONS.items() for action in actions}
    found = list(Permission.objects.filter(content_type__app_label="outfits", codename__in=codenames))
    missing = codenames - {p.codename for p in found}
    if missing:  # a model renamed without this list: say so rather than grant less in silence
        raise LookupError(f"no such permissions: {', '.join(sorted(missing))}")
    group.permissions.set(found)
    return group, len(found)


def sync_after_migrate(*, using: str = "default", **_: Any) -> None:
    """post_migrate (outfits.apps): after every migrate the group matches the list, with no step to
    forget. Runs after auth has created this app's permissions (auth's receiver connects first)."""
    if using != "default":
        return
    try:
        editors_group_sync()
    except LookupError as exc:  # a migrate to an older target: some models are not there yet
        log.warning("editors group not synced: %s", exc)
