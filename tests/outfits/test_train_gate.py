"""train_gate fits the garment gate on the shop's analysed photos against drawn non-garments; looks
then carry each garment's odds and leave out what the gate refuses."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from outfits.worker_models import garment_gate
from tests.factories import garment_photo
from vision.garment_gate import fit_gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def gate_dir() -> Iterator[Path]:
    folder = Path(settings.MODELS_DIR) / "gate"
    yield folder
    shutil.rmtree(folder, ignore_errors=True)  # the other tests run without a gate


def test_a_fitted_gate_reads_every_garment_of_a_look(
    gate_dir: Path,
    tmp_path: Path,
    storefront: APIClient,
    capsys: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    own = tmp_path / "no-garments"
    own.mkdir()
    Image.new("RGB", (300, 200), (90, 140, 200)).save(own / "sky.jpg")
    (own / "broken.jpg").write_bytes(b"not a photo")  # skipped: it teaches nothing
    call_command("train_gate", "--non-garments", "60", "--non-garments-dir", str(own))
    out = capsys.readouterr().out
    assert "held out:" in out and "garments refused" in out
    assert (gate_dir / "ACTIVE").is_file()
    photo = SimpleUploadedFile("top.jpg", garment_photo(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = storefront.post("/api/v1/looks/", {"photo": photo}, format="multipart")
    result = storefront.get(response["Location"]).json()["result"]
    everything = result["garments"] + result["unplaced"]
    assert everything and all(0 <= g["garment_odds"] <= 1 for g in everything)
    refused = [g for g in result["unplaced"] if "does not look like a garment" in g["reason"]]
    assert all(g["garment_odds"] < 0.5 for g in refused)


def test_a_gate_of_another_image_model_is_skipped_not_fatal(gate_dir: Path, caplog: Any) -> None:
    rng = np.random.default_rng(0)
    gate, figures = fit_gate(
        rng.normal(size=(20, 8)) + 1, rng.normal(size=(20, 8)) - 1, spec="old-model@0+iso1"
    )
    gate.save(gate_dir.parent, "old", figures=figures)
    assert garment_gate("new-model@1+iso1") is None
    assert "fit it again" in caplog.text
