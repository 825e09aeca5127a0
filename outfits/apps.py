from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OutfitsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "outfits"
    verbose_name = "Complete the look"

    def ready(self) -> None:
        # Registers the API-key scheme with drf-spectacular (extensions register on import).
        # Connects the signals that make cached answers stale when the catalog changes.
        # Connects the CORS check for public keys' origins, and drops the cached origins on a key's change.
        from . import answer_cache, editors  # noqa: F401
        from .api import cors, schema  # noqa: F401

        # After every migrate the editors group holds what outfits.editors lists.
        post_migrate.connect(editors.sync_after_migrate, sender=self)
