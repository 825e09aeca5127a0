"""The image-text model: built once per session from the packaged weights into a temp folder."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import AutoModel, AutoTokenizer

import vision.embed
from tests.vision.garments import CREAM, GREY, draw_garment_photo
from tests.vision.timm_names import imagenet_reference
from vision.detect import find_garment, isolate_garment
from vision.embed import GarmentEmbedder, get_embedder
from vision.imagenet_weights import classifier_weights, load_efficientnet_lite0_weights
from vision.registry import (
    DEFAULT_MODEL,
    LoadedModel,
    ModelSpec,
    build_initial_weights,
    file_sha256,
    load_model,
    read_config,
    weights_path,
)


def garments(count: int) -> list[Image.Image]:
    colours = [(40, 70, 140), (200, 40, 40), (30, 30, 30), (220, 200, 160), (60, 140, 80)]
    return [draw_garment_photo(CREAM, colour=colours[i % 5], seed=i).image for i in range(count)]


def test_spec_names_model_and_weights(embedder: GarmentEmbedder, models_dir: Path) -> None:
    sha = file_sha256(weights_path(models_dir, DEFAULT_MODEL))
    assert embedder.spec == ModelSpec(name=DEFAULT_MODEL, weights_sha=sha)
    assert str(embedder.spec) == f"ctl-effnetlite0-minilm@{sha[:12]}"
    assert (embedder.dim, embedder.device) == (1280, "cpu")


def test_image_embeddings_are_unit_rows(embedder: GarmentEmbedder) -> None:
    vectors = embedder.embed_images(garments(5), batch_size=2)
    assert vectors.shape == (5, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_image_embeddings_are_deterministic_and_batch_independent(embedder: GarmentEmbedder) -> None:
    images = garments(4)
    first = embedder.embed_images(images, batch_size=4)
    np.testing.assert_array_equal(first, embedder.embed_images(images, batch_size=4))
    np.testing.assert_allclose(first, embedder.embed_images(images, batch_size=1), atol=1e-5)


def test_empty_inputs_give_empty_arrays(embedder: GarmentEmbedder) -> None:
    assert embedder.embed_images([]).shape == (0, 1280)
    assert embedder.embed_texts([]).shape == (0, 1280)


def test_image_embedding_is_the_normalised_imagenet_feature(embedder: GarmentEmbedder) -> None:
    images = garments(3)
    features = embedder.backbone_features(images)
    assert features.shape == (3, 1280)
    expected = features / np.linalg.norm(features, axis=1, keepdims=True)
    np.testing.assert_allclose(embedder.embed_images(images), expected, atol=1e-6)


def test_backbone_matches_imagenet_reference_loaded_by_name(embedder: GarmentEmbedder) -> None:
    # The weights went: package file -> positional mapping -> build -> .pt -> open_clip load. A plain
    # timm classifier loaded straight from the package by name must see exactly the same features,
    # and the packaged classifier on our features must give its logits.
    source = load_efficientnet_lite0_weights()
    reference = imagenet_reference(source)
    images = [draw_garment_photo(GREY, colour=(150, 60, 90), seed=7).image, garments(1)[0]]
    with torch.inference_mode():
        batch = embedder.image_batch(images)
        expected_features = reference.forward_head(reference.forward_features(batch), pre_logits=True)
        expected_logits = reference(batch)
    features = embedder.backbone_features(images)
    np.testing.assert_allclose(features, expected_features.numpy(), rtol=1e-4, atol=1e-5)
    weight, bias = classifier_weights(source)
    logits = torch.from_numpy(features) @ weight.T + bias
    torch.testing.assert_close(logits, expected_logits, rtol=1e-4, atol=1e-4)
    assert not np.allclose(features[0], features[1], atol=1e-2)


def test_isolation_makes_embeddings_robust_to_backdrop_colour(embedder: GarmentEmbedder) -> None:
    for colour in [(40, 70, 140), (225, 215, 195)]:
        on_cream = draw_garment_photo(CREAM, colour=colour).image
        on_grey = draw_garment_photo(GREY, colour=colour).image
        raw = embedder.embed_images([on_cream, on_grey])
        isolated = embedder.embed_images([isolate_garment(i, find_garment(i)) for i in (on_cream, on_grey)])
        raw_cosine, isolated_cosine = float(raw[0] @ raw[1]), float(isolated[0] @ isolated[1])
        assert isolated_cosine > 0.985, colour
        # What is left after isolation is at most a third of the drift the raw photos show.
        assert 1 - isolated_cosine < (1 - raw_cosine) / 3, (colour, raw_cosine, isolated_cosine)


def test_text_embeddings_are_unit_rows_in_the_image_space(embedder: GarmentEmbedder) -> None:
    vectors = embedder.embed_texts(["red summer dress", "black leather ankle boots", "denim jacket"])
    assert vectors.shape == (3, 1280) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_text_tower_keeps_minilm_similarities(embedder: GarmentEmbedder) -> None:
    texts = ["red summer dress", "crimson sundress", "black leather ankle boots", "wool winter coat"]
    ours = embedder.embed_texts(texts)
    folder = read_config(DEFAULT_MODEL).model_cfg["text_cfg"]["hf_model_name"]
    tokenizer, minilm = AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder).eval()
    tokens = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = minilm(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1)
    pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1).numpy()
    np.testing.assert_allclose(ours @ ours.T, pooled @ pooled.T, atol=0.08)
    similarity = ours @ ours.T
    assert similarity[0, 1] > similarity[0, 2]


def test_embedder_is_loaded_once_per_process(embedder: GarmentEmbedder, models_dir: Path) -> None:
    assert get_embedder(models_dir=models_dir) is embedder
    assert (
        get_embedder(models_dir=str(models_dir), weights=weights_path(models_dir, DEFAULT_MODEL)) is embedder
    )


def test_concurrent_first_calls_load_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[str] = []

    class Loaded:
        def __init__(self) -> None:
            self.model = torch.nn.Module()
            self.model.visual = torch.nn.Conv2d(3, 1, 1)
            self.preprocess, self.tokenizer = object(), object()
            self.spec = ModelSpec("fake", "0" * 64)
            self.config = read_config(DEFAULT_MODEL)

    def slow_load(name: str, **_: object) -> Loaded:
        calls.append(name)
        time.sleep(0.2)
        return Loaded()

    monkeypatch.setattr(vision.embed, "load_model", slow_load)
    monkeypatch.setattr(vision.embed, "_embedders", {})  # keep the fake out of the session's cache
    results: list[GarmentEmbedder] = []
    threads = [
        threading.Thread(target=lambda: results.append(get_embedder(models_dir=tmp_path))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [DEFAULT_MODEL]
    assert len(results) == 4 and all(result is results[0] for result in results)


@pytest.fixture(scope="module")
def reloaded(embedder: GarmentEmbedder, models_dir: Path) -> LoadedModel:
    """A second, uncached load of the checkpoint the session embedder saved."""
    return load_model(DEFAULT_MODEL, models_dir=models_dir, weights=weights_path(models_dir, DEFAULT_MODEL))


def test_saved_checkpoint_reloads_exactly(
    embedder: GarmentEmbedder, reloaded: LoadedModel, models_dir: Path
) -> None:
    # open_clip's loader (which converts and resizes some checkpoints) must hand back every saved
    # tensor untouched, and the spec must not change between loads.
    saved = torch.load(weights_path(models_dir, DEFAULT_MODEL), map_location="cpu", weights_only=True)
    loaded = reloaded.model.state_dict()
    assert loaded.keys() == saved.keys()
    assert all(torch.equal(loaded[name], saved[name]) for name in saved)
    assert reloaded.spec == embedder.spec


def test_model_preprocessing_comes_from_the_config(reloaded: LoadedModel) -> None:
    cfg = reloaded.model.visual.preprocess_cfg
    assert (tuple(cfg["mean"]), tuple(cfg["std"]), cfg["interpolation"]) == (
        (0.5,) * 3,
        (0.5,) * 3,
        "bicubic",
    )
    steps = {type(step).__name__: step for step in reloaded.preprocess.transforms}  # type: ignore[attr-defined]
    assert tuple(steps["Normalize"].mean) == (0.5, 0.5, 0.5)
    assert steps["Resize"].interpolation.value == "bicubic"


def test_building_again_gives_the_same_bytes(embedder: GarmentEmbedder, tmp_path: Path) -> None:
    rebuilt = build_initial_weights(read_config(DEFAULT_MODEL), tmp_path)
    assert file_sha256(rebuilt) == embedder.spec.weights_sha
    assert not list(tmp_path.glob("*.part"))


def test_missing_weights_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="model weights not found"):
        get_embedder(models_dir=tmp_path, weights=tmp_path / "stronger-clip.pt")


def test_unknown_model_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown model 'ViT-B-32-typo'"):
        get_embedder(models_dir=tmp_path, model_name="ViT-B-32-typo")


def test_each_distinct_text_is_embedded_once(
    embedder: GarmentEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[list[str]] = []
    real = embedder._embed_text_batch

    def counted(texts: Sequence[str]) -> np.ndarray:
        asked.append(list(texts))
        return real(texts)

    monkeypatch.setattr(embedder, "_embed_text_batch", counted)
    first = embedder.embed_texts(["White coat", "Black jeans", "White coat", "Grey scarf once"])
    again = embedder.embed_texts(["Grey scarf once", "White coat"])
    assert sorted(text for batch in asked for text in batch) == [
        "Black jeans",
        "Grey scarf once",
        "White coat",
    ]
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(again, first[[3, 0]])
    fresh = real(["White coat"])  # what the cache gives is what the tower says
    np.testing.assert_allclose(first[0], fresh[0], atol=1e-6)
