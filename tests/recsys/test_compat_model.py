"""The compatibility model learns a toy rule, scores the same in numpy as in torch, and its
artefact refuses an image model it was not trained on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsys.compat.artefact import CompatMismatch, load_compat_model, save_compat_model
from recsys.compat.features import AttributeVocabulary, GarmentInputs, input_matrix
from recsys.compat.model import CompatScorer, build_net
from recsys.compat.train import (
    CompatSettings,
    CompatTrainingError,
    LibraryGarments,
    train_compat_model,
)

SLOTS = ("top", "bottom", "shoes")
COLOURS = 6
QUICK = CompatSettings(max_epochs=25, patience=25, negatives=5, hidden=64, dim=32, batch_size=128)


def colour_library(
    capsules: int = 20, seed: int = 0, *, with_colour: bool = True, bottom_shift: int = 0
) -> LibraryGarments:
    """Capsule collections whose outfits are one colour head to toe (or, with `bottom_shift`,
    bottoms of the colour that many steps round the wheel: a rule looking alike cannot learn).
    Photos are noisy views of their colour; half the garments state their colour as an attribute.
    Every capsule has garments of every colour, so the rule carries over to held-out capsules."""
    rng = np.random.default_rng(seed)
    colour_looks = rng.normal(size=(COLOURS, 32))
    keys: list[int] = []
    slots: list[str] = []
    images: list[np.ndarray] = []
    attributes: list[dict[str, str]] = []
    outfits: dict[int, list[int]] = {}
    for capsule in range(capsules):
        own: dict[tuple[str, int], list[int]] = {}
        for slot in SLOTS:
            for colour in range(COLOURS):
                row = len(keys)
                keys.append(1000 + row)
                slots.append(slot)
                images.append((colour_looks[colour] + 0.9 * rng.normal(size=32)).astype(np.float32))
                stated = {"colour_group": f"c{colour}"} if with_colour and rng.random() < 0.5 else {}
                attributes.append({"slot": slot, **stated})
                own.setdefault((slot, colour), []).append(row)
        for n in range(8):
            colour = int(rng.integers(COLOURS))
            outfits[capsule * 100 + n] = [
                own[(slot, (colour + bottom_shift) % COLOURS if slot == "bottom" else colour)][0]
                for slot in SLOTS
            ]
    return LibraryGarments(
        keys=np.array(keys, dtype=np.int64),
        slots=tuple(slots),
        families=tuple(f"{s}-family" for s in slots),
        types=tuple(f"{s}-type" for s in slots),
        inputs=GarmentInputs.build(
            image=images, text=[None] * len(keys), attributes=attributes, image_dim=32, text_dim=16
        ),
        outfits=outfits,
    )


def test_learns_that_one_colour_head_to_toe_goes_together() -> None:
    library = colour_library(capsules=30)
    result = train_compat_model(library, settings=QUICK, progress=False, report=lambda line: None)
    # Chance is 0.25 (four candidates of the answer's type); the rule lifts it far above.
    assert result.metrics["validation/fitb"] >= 0.6, result.history
    assert result.metrics["validation/auc"] >= 0.8
    assert result.counts["validation_outfits"] > 0
    assert result.counts["training_outfits"] + result.counts["validation_outfits"] <= 30 * 8


def test_learns_a_pairing_that_plain_similarity_gets_wrong() -> None:
    library = colour_library(capsules=30, bottom_shift=3)  # each top goes with the opposite colour
    result = train_compat_model(library, settings=QUICK, progress=False, report=lambda line: None)
    first = result.history[0]["fitb"]
    assert result.metrics["validation/fitb"] >= 0.5 and result.metrics["validation/fitb"] > first


def test_a_garment_without_text_or_attributes_still_gets_a_score() -> None:
    library = colour_library(capsules=6)
    result = train_compat_model(
        library,
        settings=CompatSettings(max_epochs=2, patience=2, negatives=3, hidden=16, dim=8),
        progress=False,
        report=lambda line: None,
    )
    bare = GarmentInputs.build(
        image=[library.inputs.image[0], None],
        text=[None, None],
        attributes=[{}, {}],
        image_dim=32,
        text_dim=16,
    )
    vectors = result.scorer.embed(input_matrix(bare, result.vocabulary))
    scores = result.scorer.outfit_scores(vectors[:1], ["top"], vectors[1:], "bottom")
    assert np.isfinite(vectors).all() and np.isfinite(scores).all()


def test_numpy_scorer_matches_the_torch_net() -> None:
    import torch

    torch.manual_seed(0)
    net = build_net(20, image_width=5, hidden=12, dim=6, dropout=0.5)
    with torch.no_grad():
        net.pair_weights.uniform_(-1, 1)
    net.eval()
    x = torch.randn(5, 20)
    scorer = CompatScorer(net.arrays())
    assert np.allclose(scorer.embed(x.numpy()), net.embed(x).detach().numpy(), atol=1e-5)
    embedded = net.embed(x).detach()
    rows = torch.tensor([[net.pairs[("top", "shoes")], net.pairs[("bottom", "shoes")]]])
    expected = net.scores(embedded[None, :2], embedded[None, 2:], rows, torch.ones(1, 2, dtype=torch.bool))
    got = scorer.outfit_scores(embedded[:2].numpy(), ["top", "bottom"], embedded[2:].numpy(), "shoes")
    assert np.allclose(got, expected.detach().numpy()[0], atol=1e-5)


def test_an_ensemble_scores_the_mean_of_its_members_with_one_vector_each(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(1)
    members = []
    for _ in range(3):
        net = build_net(20, image_width=5, hidden=12, dim=6, dropout=0.0)
        with torch.no_grad():
            net.pair_weights.uniform_(-1, 1)
        members.append(net.arrays())
    ensemble = CompatScorer.ensemble(members)
    alone = [CompatScorer(m) for m in members]
    x = np.random.default_rng(0).standard_normal((6, 20)).astype(np.float32)
    embedded = ensemble.embed(x)
    assert ensemble.members == 3 and embedded.shape == (6, 3 * 6 + 5) == (6, ensemble.dim)
    got = ensemble.outfit_scores(embedded[:2], ["top", "bottom"], embedded[2:], "shoes")
    each = [s.outfit_scores(s.embed(x)[:2], ["top", "bottom"], s.embed(x)[2:], "shoes") for s in alone]
    assert np.allclose(got, np.mean(each, axis=0), atol=1e-5)
    # saved and loaded as one model
    save_compat_model(
        tmp_path, scorer=ensemble, vocabulary=AttributeVocabulary({}), image_model_spec="img@abc", manifest={}
    )
    loaded = load_compat_model(tmp_path, expect_image_model_spec="img@abc")
    assert loaded is not None and loaded.scorer.members == 3
    assert np.allclose(loaded.scorer.embed(x), embedded)


def test_an_ensemble_trains_its_members_on_one_split() -> None:
    library = colour_library(capsules=6)
    lines: list[str] = []
    settings = CompatSettings(max_epochs=2, patience=2, negatives=3, hidden=16, dim=8, members=2)
    result = train_compat_model(library, settings=settings, progress=False, report=lines.append)
    assert result.scorer.members == 2 and result.counts["members"] == 2
    assert "validation/fitb_first_member" in result.metrics
    assert any(line.startswith("ensemble of 2: validation fitb") for line in lines)


def test_artefact_round_trip_and_a_mismatched_image_model_is_refused(tmp_path: Path) -> None:
    scorer = CompatScorer(build_net(10, image_width=4, hidden=4, dim=3, dropout=0.0).arrays())
    vocabulary = AttributeVocabulary.fit([{"colour_group": "NAVY"}] * 3)
    artefact = save_compat_model(
        tmp_path, scorer=scorer, vocabulary=vocabulary, image_model_spec="img@abc", manifest={"seed": 0}
    )
    loaded = load_compat_model(tmp_path, expect_image_model_spec="img@abc")
    assert loaded is not None and loaded.artefact.artefact_id == artefact.artefact_id
    assert loaded.vocabulary == vocabulary
    assert np.allclose(loaded.scorer.as_arrays()["out.weight"], scorer.as_arrays()["out.weight"])
    with pytest.raises(CompatMismatch, match="train_compat"):
        load_compat_model(tmp_path, expect_image_model_spec="img@other")
    assert load_compat_model(tmp_path / "empty", expect_image_model_spec="img@abc") is None


def test_resume_goes_on_from_the_checkpoint(tmp_path: Path) -> None:
    library = colour_library(capsules=6)
    settings = CompatSettings(max_epochs=3, patience=3, negatives=3, hidden=16, dim=8)
    lines: list[str] = []
    first = train_compat_model(
        library, settings=settings, work_dir=tmp_path, progress=False, report=lines.append
    )
    again = train_compat_model(
        library, settings=settings, work_dir=tmp_path, resume=True, progress=False, report=lines.append
    )
    assert any(line.startswith("resuming after epoch 3") for line in lines)
    assert again.counts["epochs"] == first.counts["epochs"] == 3
    other = CompatSettings(max_epochs=4, patience=3, negatives=3, hidden=16, dim=8)
    with pytest.raises(CompatTrainingError, match="without --resume"):
        train_compat_model(library, settings=other, work_dir=tmp_path, resume=True, progress=False)


def test_too_small_a_library_is_a_clear_error() -> None:
    library = colour_library(capsules=1)
    with pytest.raises(CompatTrainingError):
        train_compat_model(library, settings=QUICK, progress=False, report=lambda line: None)
