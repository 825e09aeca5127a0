"""Looks belong to who made them (the key, or now the editor user) and their photos are private.

The photos uploaded before this migration sit under MEDIA_ROOT, which /media/ serves to anyone: they
are moved, under the same names, to the private storage (outfits.look_photos), so every stored look
keeps its photo and none stays public. Moving is idempotent (a photo already moved is skipped, a
missing one is left as it is) and reversible.
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.core.files.storage import storages
from django.db import migrations, models

import outfits.look_photos


def _move(names: Any, source: str, target: str) -> None:
    source_storage, target_storage = storages[source], storages[target]
    for name in names:
        if not name or not source_storage.exists(name):
            continue
        if not target_storage.exists(name):
            with source_storage.open(name, "rb") as handle:
                saved = target_storage.save(name, handle)
            if saved != name:  # the row names the file: it must keep its name
                raise RuntimeError(f"look photo {name} was stored as {saved}")
        source_storage.delete(name)


def _photo_names(apps: Any) -> Any:
    look_request = apps.get_model("outfits", "LookRequest")
    return look_request.objects.exclude(image="").values_list("image", flat=True).iterator()


def photos_to_private(apps: Any, schema_editor: Any) -> None:
    _move(_photo_names(apps), "default", "private")


def photos_to_public(apps: Any, schema_editor: Any) -> None:
    _move(_photo_names(apps), "private", "default")


class Migration(migrations.Migration):
    dependencies = [
        ("outfits", "0008_analysis_updated_at_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="lookrequest",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="lookrequest",
            name="image",
            field=models.ImageField(
                max_length=255, storage=outfits.look_photos.private_storage, upload_to="looks/%Y/%m/"
            ),
        ),
        migrations.RunPython(photos_to_private, photos_to_public, elidable=False),
    ]
