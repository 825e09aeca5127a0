"""train_compat trains on the library in the database, stores an artefact tied to the image model,
and `evaluate --method compat` measures it on questions of another season's outfits."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from outfits.compat import compat_model
from outfits.models import LibraryOutfit
from outfits.selectors import newest_model_spec
from recsys.compat.artefact import save_compat_model
from recsys.compat.features import AttributeVocabulary
from recsys.compat.model import CompatScorer, build_net
from recsys.eval_files import Garment, compat_entries, fitb_questions

pytestmark = pytest.mark.django_db


@pytest.fixture
def compat_dir(settings: Any, tmp_path: Path) -> Path:
    """A models folder of the test's own: a compat model trained here never leaks into other tests."""
    settings.MODELS_DIR = tmp_path / "models"
    return Path(settings.MODELS_DIR)


def _questions(catalog: Path, target: Path) -> tuple[Path, Path]:
    """FITB and compat files (recsys.eval_files) over the catalog folder's own outfits."""
    products = {r["cod_modelo_color"]: r for r in csv.DictReader((catalog / "products.csv").open())}
    outfits: dict[str, list[str]] = defaultdict(list)
    for row in csv.DictReader((catalog / "outfits.csv").open()):
        outfits[row["cod_outfit"]].append(row["cod_modelo_color"])
    garments = {
        i: Garment(i, r["des_product_category"], r["des_product_family"], r["des_product_type"])
        for i, r in products.items()
    }
    fitb, compat = target / "fitb.json", target / "compat.json"
    fitb.write_text(json.dumps(fitb_questions(outfits, garments, seed=0, prefix="t")))
    compat.write_text(json.dumps(compat_entries(outfits, garments, seed=0, prefix="t")))
    return fitb, compat


def test_trains_stores_and_is_measured_on_another_season(
    compat_dir: Path, shop_folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "train.json"
    call_command(
        "train_compat",
        "--epochs",
        "4",
        "--validation-share",
        "0.2",
        "--json",
        str(out),
        "--no-build",
        verbosity=0,
    )
    figures = json.loads(out.read_text())
    assert 0.0 <= figures["metrics"]["validation/fitb"] <= 1.0
    assert figures["counts"]["training_outfits"] > figures["counts"]["validation_outfits"] > 0
    spec = newest_model_spec()
    assert spec is not None
    model = compat_model(spec)
    assert model is not None and model.artefact.artefact_id == figures["artefact"]
    assert model.image_model_spec == spec and model.artefact.manifest["seed"] == 0

    fitb, compat = _questions(shop_folders[1], tmp_path)
    capsys.readouterr()
    for task, path in (("fitb", fitb), ("compat", compat)):
        call_command("evaluate", task, str(path), "--method", "compat", "--json", str(tmp_path / "e.json"))
        assert "method=compat" in capsys.readouterr().out.strip().splitlines()[-1]
        result = json.loads((tmp_path / "e.json").read_text())
        assert result["n"] > 0
    # fitted on the validation questions (an index was built), and measured there
    assert model.blend is not None and "validation/fitb_blend" in figures["metrics"]
    for method in ("cosine", "blend", "library"):
        call_command("evaluate", "compat", str(compat), "--method", method)
        assert f"method={method}" in capsys.readouterr().out.strip().splitlines()[-1]


def test_a_model_of_another_image_model_is_refused(
    compat_dir: Path, shop_folders: tuple[Path, Path], tmp_path: Path
) -> None:
    save_compat_model(
        compat_dir,
        scorer=CompatScorer(build_net(10, image_width=4, hidden=4, dim=3, dropout=0.0).arrays()),
        vocabulary=AttributeVocabulary(values={}),
        image_model_spec="some-other-model@0000",
        manifest={},
    )
    fitb, _ = _questions(shop_folders[1], tmp_path)
    with pytest.raises(CommandError, match="trained on embeddings of some-other-model@0000"):
        call_command("evaluate", "fitb", str(fitb), "--method", "compat")


def test_no_approved_outfit_is_a_clear_error(compat_dir: Path) -> None:
    LibraryOutfit.objects.update(status=LibraryOutfit.Status.PENDING)
    with pytest.raises(CommandError, match="approved library outfits"):
        call_command("train_compat", verbosity=0)


def test_training_builds_the_index_again_with_the_models_catalog_vectors(
    compat_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from outfits.selectors import active_index

    out = tmp_path / "train.json"
    call_command("train_compat", "--epochs", "2", "--validation-share", "0.2", "--json", str(out))
    assert "suggestions now blend both methods" in capsys.readouterr().out
    index = active_index()
    assert index is not None and index.compat_model == json.loads(out.read_text())["artefact"]
    assert all(index.compat_vectors(slot) is not None for slot in index.slots("catalog"))
