"""Attention pooling, heads and consistent hierarchy decoding (vision.garment_heads)."""

from __future__ import annotations

import torch

from vision.detect import NEUTRAL_BACKGROUND
from vision.garment_heads import GarmentAttentionPool, GarmentHeads, Taxonomy, garment_mask_grid

CATEGORIES = [
    ("top", "Shirts", "Shirt"),
    ("top", "Shirts", "Blouse"),
    ("top", "T-shirts", "T-shirt"),
    ("bottom", "Trousers", "Jeans"),
    ("bottom", "Skirts", "Skirt"),
    ("shoes", "Footwear", "Sneakers"),
]
SLOT_ORDER = ("top", "bottom", "dress", "outerwear", "shoes", "bag", "accessory")


def taxonomy() -> Taxonomy:
    attributes = [{"colour_group": "RED"}, {"colour_group": "BLUE"}, {"fabric": "woven"}]
    return Taxonomy.from_labels(CATEGORIES, attributes, slot_order=SLOT_ORDER)


def test_taxonomy_orders_slots_and_drops_single_valued_attributes() -> None:
    found = taxonomy()
    assert found.slots == ("top", "bottom", "shoes")
    assert found.attributes == {"colour_group": ("BLUE", "RED")}
    assert Taxonomy.from_json(found.as_json()) == found


def test_decoding_is_consistent_for_any_logits() -> None:
    found = taxonomy()
    heads = GarmentHeads(found, channels=8, embed_dim=4).eval()
    torch.manual_seed(0)
    logits = {
        "slot": torch.randn(200, len(found.slots)) * 3,
        "family": torch.randn(200, len(found.families)) * 3,
        "type": torch.randn(200, len(found.types)) * 3,
        "attr:colour_group": torch.randn(200, 2),
    }
    for prediction in heads.decode(logits):
        assert (prediction.slot, prediction.family, prediction.type) in CATEGORIES
        assert (
            0 <= prediction.type_confidence <= prediction.family_confidence <= prediction.slot_confidence <= 1
        )
        assert abs(sum(prediction.slot_scores.values()) - 1) < 1e-4


def test_decoding_follows_the_slot_even_when_a_type_elsewhere_scores_higher() -> None:
    found = taxonomy()
    heads = GarmentHeads(found, channels=8, embed_dim=4).eval()
    type_logits = torch.zeros(1, len(found.types))
    type_logits[0, found.types.index(("bottom", "Trousers", "Jeans"))] = 9.0  # a bottom scores highest
    type_logits[0, found.types.index(("top", "Shirts", "Blouse"))] = 1.0
    family_logits = torch.zeros(1, len(found.families))
    family_logits[0, found.families.index(("top", "Shirts"))] = 1.0
    logits = {
        "slot": torch.tensor([[5.0, 0.0, 0.0]]),  # top
        "family": family_logits,
        "type": type_logits,
        "attr:colour_group": torch.zeros(1, 2),
    }
    prediction = heads.decode(logits)[0]
    assert prediction.slot == "top" and prediction.type == "Blouse" and prediction.family == "Shirts"


def test_attention_starts_as_average_pooling_over_the_garment() -> None:
    pool = GarmentAttentionPool(32)
    features = torch.randn(2, 32, 7, 7)
    everywhere = torch.ones(2, 1, 7, 7)
    assert torch.allclose(pool(features, everywhere), features.mean(dim=(2, 3)), atol=1e-5)
    left = torch.zeros(2, 1, 7, 7)
    left[..., :3] = 1.0  # the garment fills the left three columns
    pooled = pool(features, left)
    garment_mean = features[..., :3].mean(dim=(2, 3))
    assert torch.allclose(pooled, garment_mean, atol=0.2)  # the backdrop keeps only a floor of weight


def test_mask_grid_finds_what_is_not_the_neutral_backdrop() -> None:
    neutral = torch.tensor([(c / 255 - 0.5) / 0.5 for c in NEUTRAL_BACKGROUND])
    batch = neutral[None, :, None, None].repeat(1, 1, 224, 224)
    batch[..., :, :112] = -0.8  # a dark garment on the left half
    grid = garment_mask_grid(batch, (7, 7))
    assert grid.shape == (1, 1, 7, 7)
    assert torch.all(grid[..., :3] == 1.0) and torch.all(grid[..., 4:] == 0.0)
