"""The curated library from outfit photos: imported by command or uploaded in the admin, each photo
becomes a pending library outfit of the garments found, graded and waiting for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from outfits.models import ImageAnalysis, LibraryOutfit, OutfitPhoto
from tests.factories import flat_lay_photo, garment_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "spring-shoot"
    folder.mkdir()
    (folder / "look-1.jpg").write_bytes(flat_lay_photo())
    (folder / "single-top.jpg").write_bytes(garment_photo())
    (folder / "broken.jpg").write_bytes(flat_lay_photo()[:2000])
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_a_folder_of_outfit_photos_becomes_pending_outfits(photo_folder: Path, capsys: Any) -> None:
    call_command("import_outfit_photos", str(photo_folder))
    out, err = capsys.readouterr()
    assert "broken.jpg: refused" in err and "1 refused" in out
    photo = OutfitPhoto.objects.get(filename="look-1.jpg")
    assert photo.status == "done" and photo.source == "spring-shoot" and photo.photo_kind == "flat-lay"
    outfit = photo.outfit
    assert outfit is not None and outfit.status == LibraryOutfit.Status.PENDING
    pieces = list(outfit.items.select_related("category"))
    assert len(pieces) >= 2
    assert {piece.slot for piece in pieces} <= {"top", "bottom", "shoes"}
    for piece in pieces:  # each piece is its own crop, analysed like any library photo
        assert piece.image.width < 500 and piece.source == "spring-shoot"
        analysis = ImageAnalysis.objects.get(library_item=piece)
        assert analysis.status == "ok" and analysis.dim > 0
    assert outfit.quality_score is not None
    # Where each garment is in the photo, for the editor: the placed ones are the pieces.
    placed = [g for g in photo.garments if g["placed"]]
    assert len(placed) == len(pieces) and all(len(g["box"]) == 4 for g in placed)
    # A lone top is no outfit: its photo is graded so, and the outfit is kept out of suggestions.
    lone = OutfitPhoto.objects.get(filename="single-top.jpg")
    if lone.status == "done":
        assert any(p.startswith("not a full outfit") for p in lone.quality_problems)
        assert lone.outfit is not None and lone.outfit.quality_verdict == "reject"
    else:
        assert lone.error
    # Importing again adds nothing.
    call_command("import_outfit_photos", str(photo_folder))
    assert "2 already imported" in capsys.readouterr().out
    assert OutfitPhoto.objects.count() == 2


def test_bad_paths_are_a_command_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_outfit_photos", str(tmp_path / "missing"))
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(CommandError, match=r"no \.jpg"):
        call_command("import_outfit_photos", str(tmp_path))


def test_editors_upload_outfit_photos_in_the_admin(
    editor_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(editor_user)
    page = client.get("/admin/outfits/outfitphoto/")
    assert page.status_code == 200 and "Upload outfit photos" in page.content.decode()
    assert client.get("/admin/outfits/outfitphoto/upload/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/outfits/outfitphoto/upload/",
            {
                "source": "editors",
                "photos": [
                    SimpleUploadedFile("a.jpg", flat_lay_photo(), "image/jpeg"),
                    SimpleUploadedFile("b.jpg", b"not a photo", "image/jpeg"),
                ],
            },
            follow=True,
        )
    text = response.content.decode()
    assert "Refused b.jpg: not an image" in text and "1 photo queued" in text
    photo = OutfitPhoto.objects.get()
    assert photo.status == "done" and photo.uploaded_by == editor_user and photo.outfit is not None
    change = client.get(f"/admin/outfits/outfitphoto/{photo.pk}/change/").content.decode()
    assert "Garments found" in change and "top product (" in change
    queue = client.get("/admin/outfits/libraryoutfit/?status__exact=pending").content.decode()
    assert str(photo.outfit) in queue
    # An editor keeps a photo despite its problems: the outfit's verdict follows.
    client.post(
        "/admin/outfits/outfitphoto/",
        {"action": "keep_despite_problems", "_selected_action": [photo.pk]},
    )
    photo.refresh_from_db()
    assert photo.quality_override == "keep"


def test_storefront_users_cannot_upload(storefront: Any) -> None:
    assert Client().get("/admin/outfits/outfitphoto/upload/").status_code == 302  # to the login page
