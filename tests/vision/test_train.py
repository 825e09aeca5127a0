"""Training the garment model end to end on a tiny generated data set (seconds, not minutes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import open_clip
import pytest
import torch

from demo import write_demo_dataset
from vision import embed
from vision.artefact import ArtefactError, active_artefact, read_artefact
from vision.detect import find_garment, isolate_garment
from vision.embed import get_embedder
from vision.images import open_garment_image
from vision.registry import DEFAULT_MODEL, read_config, register_config
from vision.train import TrainResult, TrainSettings, train_garment_model

# Attention pooling here (the default is avg, used by the shop fixture), so both paths are trained in tests.
TINY = TrainSettings(
    max_epochs=2,
    patience=2,
    batch_size=16,
    validation_share=0.25,
    test_share=0.15,
    seed=3,
    pooling="attention",
)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-shop")
    write_demo_dataset(folder, n_outfits=10, seed=5, id_prefix="T")
    return folder


@pytest.fixture(scope="module")
def trained(shop: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, TrainResult]]:
    models_dir = tmp_path_factory.mktemp("models")
    result = train_garment_model(
        [shop], models_dir=models_dir, settings=TINY, progress=False, report=lambda _: None
    )
    yield models_dir, result
    embed._embedders.clear()


def test_training_writes_an_active_artefact_with_its_manifest(
    shop: Path, trained: tuple[Path, TrainResult]
) -> None:
    models_dir, result = trained
    manifest = result.artefact.manifest
    assert manifest["format_version"] == 1 and manifest["seed"] == 3
    assert manifest["base_config"] == "ctl-garment-effnetlite0-minilm"
    assert manifest["data"][0]["path"] == str(shop.resolve()) and manifest["data"][0]["layout"] == "mango"
    assert sum(manifest["counts"].values()) == manifest["data"][0]["garments"]
    assert manifest["taxonomy"]["slots"] and manifest["taxonomy"]["attributes"]["colour_group"]
    assert 0 <= manifest["metrics"]["test/all/slot"] <= 1
    assert len(manifest["epochs"]) == 2
    active = active_artefact(models_dir)
    assert active is not None and active.folder == result.artefact.folder


def test_the_trained_model_embeds_and_classifies_consistently(
    shop: Path, trained: tuple[Path, TrainResult]
) -> None:
    models_dir, result = trained
    embedder = get_embedder(models_dir=models_dir)
    assert embedder.artefact is not None and embedder.taxonomy is not None
    assert str(embedder.spec) == f"ctl-garment-effnetlite0-minilm@{result.artefact.sha256()[:12]}"
    photos = sorted((shop / "images").glob("*.jpg"))[:6]
    images = []
    for path in photos:
        image = open_garment_image(path)
        images.append(isolate_garment(image, find_garment(image)))
    rows, predictions = embedder.describe_images(images)
    assert rows.shape == (6, 512) and np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-5)
    assert np.allclose(rows, embedder.embed_images(images), atol=1e-5)
    categories = {tuple(t) for t in result.artefact.manifest["taxonomy"]["types"]}
    for prediction in predictions:
        assert prediction is not None
        assert (prediction.slot, prediction.family, prediction.type) in categories
        assert set(prediction.attributes) == set(result.artefact.manifest["taxonomy"]["attributes"])
    texts = embedder.embed_texts(["a red dress"])
    assert texts.shape == (1, 512)


def test_same_seed_same_model_and_resume_trains_nothing_more(
    shop: Path, trained: tuple[Path, TrainResult], tmp_path: Path
) -> None:
    _, first = trained
    work = tmp_path / "work"
    again = train_garment_model(
        [shop], models_dir=tmp_path / "m", work_dir=work, settings=TINY, progress=False, report=lambda _: None
    )
    assert again.artefact.sha256() == first.artefact.sha256()
    lines: list[str] = []
    resumed = train_garment_model(
        [shop],
        models_dir=tmp_path / "m",
        work_dir=work,
        settings=TINY,
        resume=True,
        progress=False,
        report=lines.append,
    )
    assert any("resuming after epoch 2" in line for line in lines)
    assert resumed.metrics == again.metrics


def test_an_artefact_of_another_format_is_refused(trained: tuple[Path, TrainResult], tmp_path: Path) -> None:
    _, result = trained
    manifest_path = result.artefact.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    copy = tmp_path / "old"
    copy.mkdir()
    for name in ("clip.pt", "heads.pt"):
        (copy / name).write_bytes((result.artefact.folder / name).read_bytes())
    (copy / "manifest.json").write_text(json.dumps(manifest | {"format_version": 0}))
    with pytest.raises(ArtefactError, match="format 0"):
        read_artefact(copy)


def test_a_plugged_in_model_without_heads_falls_back_to_zero_shot(tmp_path: Path) -> None:
    """An operator's checkpoint of another architecture (here: random weights) has no heads: it
    still embeds, and classifies slots by text prompts instead of failing."""
    config = read_config(DEFAULT_MODEL)
    register_config(config, tmp_path)
    torch.manual_seed(0)
    model = open_clip.create_model(DEFAULT_MODEL, pretrained_image=False, pretrained_text=False)
    weights = tmp_path / "operator.pt"
    torch.save(model.state_dict(), weights)
    embedder = get_embedder(models_dir=tmp_path, weights=weights)
    assert embedder.taxonomy is None and embedder.aligned
    image = open_garment_image(_png())
    rows, predictions = embedder.describe_images([image])
    assert rows.shape == (1, config.embed_dim)
    guess = predictions[0]
    assert guess is not None and guess.slot in embed.SLOT_PROMPT_WORDS and guess.type == ""


def test_the_untrained_base_classifies_nothing(tmp_path: Path) -> None:
    embedder = get_embedder(models_dir=tmp_path)
    assert not embedder.aligned
    _, predictions = embedder.describe_images([open_garment_image(_png())])
    assert predictions == [None]


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 96), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()
