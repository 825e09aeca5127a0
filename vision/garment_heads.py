"""What the trained garment model adds on top of the image tower: attention pooling over the garment
region and multi-task heads (slot → family → type, attributes), plus their vocabularies.

The seeds' attention: channel attention (a squeeze-and-excitation gate on the pooled map) and a
spatial saliency map (a 1x1 convolution) whose logits are guided by the foreground mask (the share
of garment pixels in each cell, known from isolation: the backdrop is exactly NEUTRAL_BACKGROUND).
Initialised so that it starts as average pooling over the garment cells, and learns from there.

The heads read the projected embedding (the vector the indexes store), not the pooled features, so
the embedding itself has to carry category and attributes.

Hierarchy decoding is top-down and consistent: the best slot, then the best family under that slot,
then the best type under that family; a type always sits under its predicted family and slot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional as F

from vision.detect import NEUTRAL_BACKGROUND

# A pixel further than this (0..255 levels, in some channel) from the neutral backdrop is garment.
# Isolation leaves backdrop exactly neutral; resampling blurs the outline by a pixel, which the
# grid's averaging absorbs.
MASK_TOLERANCE: Final = 8.0
# Cells with no garment still get a little attention (log of this floor), so a mask that missed a
# white-on-white garment cannot blind the pooling.
MASK_FLOOR: Final = 0.05


@dataclass(frozen=True)
class Taxonomy:
    """The classes the heads predict, in a fixed order (saved in the artefact's manifest)."""

    slots: tuple[str, ...]
    families: tuple[tuple[str, str], ...]  # (slot, family)
    types: tuple[tuple[str, str, str], ...]  # (slot, family, type)
    attributes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_labels(
        cls,
        categories: Sequence[tuple[str, str, str]],
        attributes: Sequence[Mapping[str, str]],
        *,
        slot_order: Sequence[str],
    ) -> Taxonomy:
        present = set(categories)
        slots = tuple(slot for slot in slot_order if any(c[0] == slot for c in present))
        families = tuple(sorted({(c[0], c[1]) for c in present}, key=lambda f: (slots.index(f[0]), f[1])))
        types = tuple(sorted(present, key=lambda t: (slots.index(t[0]), t[1], t[2])))
        vocab: dict[str, set[str]] = {}
        for row in attributes:
            for name, value in row.items():
                vocab.setdefault(name, set()).add(value)
        # An attribute with one value teaches nothing.
        return cls(
            slots,
            families,
            types,
            {name: tuple(sorted(v)) for name, v in sorted(vocab.items()) if len(v) > 1},
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "slots": list(self.slots),
            "families": [list(f) for f in self.families],
            "types": [list(t) for t in self.types],
            "attributes": {name: list(values) for name, values in self.attributes.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Taxonomy:
        return cls(
            slots=tuple(data["slots"]),
            families=tuple((f[0], f[1]) for f in data["families"]),
            types=tuple((t[0], t[1], t[2]) for t in data["types"]),
            attributes={name: tuple(values) for name, values in data["attributes"].items()},
        )

    def family_of_type(self) -> npt.NDArray[np.int64]:
        return np.array([self.families.index((t[0], t[1])) for t in self.types], dtype=np.int64)

    def slot_of_family(self) -> npt.NDArray[np.int64]:
        return np.array([self.slots.index(f[0]) for f in self.families], dtype=np.int64)


@dataclass(frozen=True)
class GarmentPrediction:
    """One garment's predicted category path (consistent) and attribute probabilities."""

    slot: str
    slot_confidence: float
    family: str
    family_confidence: float  # of the path slot → family
    type: str
    type_confidence: float  # of the whole path slot → family → type
    slot_scores: dict[str, float]  # every slot's probability
    type_scores: dict[str, float]  # the most likely types, "slot/family/type" → probability
    attributes: dict[str, dict[str, float]]  # name → the most likely values → probability

    def as_json(self) -> dict[str, Any]:
        return {
            "slot": {"value": self.slot, "confidence": round(self.slot_confidence, 4)},
            "family": {"value": self.family, "confidence": round(self.family_confidence, 4)},
            "type": {"value": self.type, "confidence": round(self.type_confidence, 4)},
            "slot_scores": {k: round(v, 4) for k, v in self.slot_scores.items()},
            "type_scores": {k: round(v, 4) for k, v in self.type_scores.items()},
            "attributes": {
                n: {k: round(v, 4) for k, v in values.items()} for n, values in self.attributes.items()
            },
        }


def type_key(path: tuple[str, str, str]) -> str:
    return "/".join(path)


class GarmentAttentionPool(nn.Module):
    """Channel attention + mask-guided spatial saliency, pooling a (B, C, H, W) map into (B, C)."""

    def __init__(self, channels: int, *, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        expand = nn.Linear(hidden, channels)
        self.channel_gate = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(inplace=True), expand)
        self.saliency = nn.Conv2d(channels, 1, kernel_size=1)
        # How strongly the foreground mask steers the saliency (learned; starts by trusting it).
        self.mask_weight = nn.Parameter(torch.tensor(1.0))
        # Start as plain (masked) average pooling: a gate of exactly 1 and a flat saliency.
        for layer in (expand, self.saliency):
            nn.init.zeros_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        gate = 2.0 * torch.sigmoid(self.channel_gate(features.mean(dim=(2, 3))))
        gated = features * gate[:, :, None, None]
        logits = self.saliency(gated).flatten(1)  # (B, H*W)
        if mask is not None:
            logits = logits + self.mask_weight * torch.log(mask.flatten(1).clamp_min(MASK_FLOOR))
        weights = torch.softmax(logits, dim=1)
        return (gated.flatten(2) * weights[:, None, :]).sum(dim=2)


class AveragePool(nn.Module):
    """The ablation: plain average pooling (what the ImageNet network does)."""

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return features.mean(dim=(2, 3))


class GarmentHeads(nn.Module):
    """Pooling plus the classification heads. The projection into the embedding lives in the open_clip
    model (`visual.head.proj`), so the text alignment and the heads share it."""

    family_slot: torch.Tensor  # (families,) index of each family's slot
    type_family: torch.Tensor  # (types,) index of each type's family

    def __init__(
        self, taxonomy: Taxonomy, *, channels: int, embed_dim: int, pooling: str = "attention"
    ) -> None:
        super().__init__()
        self.taxonomy = taxonomy
        self.pooling = pooling
        self.pool: nn.Module = GarmentAttentionPool(channels) if pooling == "attention" else AveragePool()
        self.dropout = nn.Dropout(0.2)
        self.slot_head = nn.Linear(embed_dim, len(taxonomy.slots))
        self.family_head = nn.Linear(embed_dim, len(taxonomy.families))
        self.type_head = nn.Linear(embed_dim, len(taxonomy.types))
        self.attribute_heads = nn.ModuleDict(
            {name: nn.Linear(embed_dim, len(values)) for name, values in taxonomy.attributes.items()}
        )
        self.register_buffer("family_slot", torch.from_numpy(taxonomy.slot_of_family()), persistent=False)
        self.register_buffer("type_family", torch.from_numpy(taxonomy.family_of_type()), persistent=False)

    def classify(self, embedding: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits of every head for (B, embed_dim) embeddings (not normalised)."""
        hidden = self.dropout(embedding)
        logits = {
            "slot": self.slot_head(hidden),
            "family": self.family_head(hidden),
            "type": self.type_head(hidden),
        }
        for name, head in self.attribute_heads.items():
            logits[f"attr:{name}"] = head(hidden)
        return logits

    def decode(self, logits: Mapping[str, torch.Tensor], *, top: int = 5) -> list[GarmentPrediction]:
        """Consistent predictions (slot, then family within it, then type within that) per row."""
        taxonomy = self.taxonomy
        slot_p = torch.softmax(logits["slot"].float(), dim=1)
        family_p = torch.softmax(logits["family"].float(), dim=1)
        type_p = torch.softmax(logits["type"].float(), dim=1)
        best_slot = slot_p.argmax(dim=1)
        neg = torch.finfo(torch.float32).min
        family_ok = self.family_slot[None, :] == best_slot[:, None]
        family_cond = torch.where(family_ok, family_p, torch.zeros_like(family_p))
        family_cond = family_cond / family_cond.sum(dim=1, keepdim=True).clamp_min(1e-12)
        best_family = torch.where(family_ok, family_p, torch.full_like(family_p, neg)).argmax(dim=1)
        type_ok = self.type_family[None, :] == best_family[:, None]
        type_cond = torch.where(type_ok, type_p, torch.zeros_like(type_p))
        type_cond = type_cond / type_cond.sum(dim=1, keepdim=True).clamp_min(1e-12)
        best_type = torch.where(type_ok, type_p, torch.full_like(type_p, neg)).argmax(dim=1)
        attribute_p = {
            name: torch.softmax(logits[f"attr:{name}"].float(), dim=1) for name in taxonomy.attributes
        }
        predictions = []
        for row in range(slot_p.shape[0]):
            s, f, t = int(best_slot[row]), int(best_family[row]), int(best_type[row])
            slot_conf = float(slot_p[row, s])
            family_conf = slot_conf * float(family_cond[row, f])
            type_conf = family_conf * float(type_cond[row, t])
            top_types = torch.topk(type_p[row], min(top, type_p.shape[1]))
            attributes = {}
            for name, probabilities in attribute_p.items():
                best = torch.topk(probabilities[row], min(3, probabilities.shape[1]))
                attributes[name] = {
                    taxonomy.attributes[name][int(i)]: float(v)
                    for v, i in zip(best.values, best.indices, strict=True)
                }
            predictions.append(
                GarmentPrediction(
                    slot=taxonomy.slots[s],
                    slot_confidence=slot_conf,
                    family=taxonomy.families[f][1],
                    family_confidence=family_conf,
                    type=taxonomy.types[t][2],
                    type_confidence=type_conf,
                    slot_scores={
                        taxonomy.slots[i]: float(slot_p[row, i]) for i in range(len(taxonomy.slots))
                    },
                    type_scores={
                        type_key(taxonomy.types[int(i)]): float(v)
                        for v, i in zip(top_types.values, top_types.indices, strict=True)
                    },
                    attributes=attributes,
                )
            )
        return predictions


def garment_mask_grid(
    batch: torch.Tensor, grid: tuple[int, int], *, mean: float = 0.5, std: float = 0.5
) -> torch.Tensor:
    """(B, 1, *grid) share of garment pixels per cell of preprocessed, isolated images.

    Isolation leaves every backdrop pixel exactly NEUTRAL_BACKGROUND; anything else is garment.
    """
    neutral = torch.tensor(
        [(c / 255.0 - mean) / std for c in NEUTRAL_BACKGROUND], dtype=batch.dtype, device=batch.device
    )
    garment = (
        (batch - neutral[None, :, None, None]).abs().amax(dim=1, keepdim=True) > MASK_TOLERANCE / 255.0 / std
    ).float()
    return F.adaptive_avg_pool2d(garment, grid)
