"""The compatibility model: a general garment embedding and a learned subspace per pair of slots.

Type-aware metric learning (Vasileva et al., "Learning Type-Aware Embeddings for Fashion
Compatibility", 2018): one encoder maps a garment's inputs to a unit vector; how well two garments
go together is read in a subspace chosen by their two slots, so "a top like this goes with jeans
like that" need not also make the two tops similar. Here the subspace is a learned weight per
dimension and slot pair (a diagonal bilinear form, which may be negative: a contrast can be what
makes two garments work), and compatibility is the weighted dot product

    score(x, y) = scale * sum_k w[slot_x, slot_y][k] * e(x)[k] * e(y)[k],

where e(x) is the encoder's vector followed by the garment's image embedding itself. The image part
starts with weight 1, so an untrained model scores like plain image similarity (what a stylist's
palette mostly is, and the naive baseline), and training learns per slot pair which image
dimensions matter more or less, and what the encoder adds on top.

A candidate's score against a partial outfit is the mean over its pieces.

Training needs torch (recsys.compat.train); serving does not: `CompatScorer` runs the same encoder
and scores in numpy from the saved weights, so the web process and the index build never import
torch. A test holds the two to the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from ..slots import SLOTS

# Weight names in the saved .npz, shared by the torch net and the numpy scorer.
WEIGHT_NAMES: Final = ("hidden.weight", "hidden.bias", "out.weight", "out.bias", "pair_weights", "log_scale")


def slot_pairs(slots: Sequence[str] = SLOTS) -> dict[tuple[str, str], int]:
    """Row of each unordered slot pair in `pair_weights` (both orders map to one row)."""
    rows: dict[tuple[str, str], int] = {}
    for row, (a, b) in enumerate(combinations_with_replacement(sorted(slots), 2)):
        rows[(a, b)] = rows[(b, a)] = row
    return rows


def member_weights(weights: Mapping[str, NDArray[np.float32]]) -> list[dict[str, NDArray[np.float32]]]:
    """The members of saved weights: plain names are one model, "m<i>/<name>" an ensemble."""
    if not any("/" in name for name in weights):
        return [dict(weights)]
    members: dict[int, dict[str, NDArray[np.float32]]] = {}
    for name, value in weights.items():
        prefix, _, plain = name.partition("/")
        if not prefix.startswith("m") or not prefix[1:].isdigit() or not plain:
            raise ValueError(f"compatibility weight {name!r} is neither a name nor m<i>/<name>")
        members.setdefault(int(prefix[1:]), {})[plain] = value
    if sorted(members) != list(range(len(members))):
        raise ValueError(f"compatibility members {sorted(members)} are not numbered 0..n-1")
    return [members[i] for i in range(len(members))]


@dataclass(frozen=True)
class CompatScorer:
    """The trained model in numpy: embed garments, score candidates against outfits.

    An ensemble of members (the same model trained from several initialisations) is one scorer: the
    mean of the members' scores is a single weighted dot product over the members' encoder vectors
    side by side, then the image embedding once (its per-member weights add up), so serving treats
    one model and an ensemble alike.
    """

    weights: Mapping[str, NDArray[np.float32]]
    slots: tuple[str, ...] = SLOTS

    def __post_init__(self) -> None:
        members = member_weights(self.weights)
        for i, member in enumerate(members):
            missing = [name for name in WEIGHT_NAMES if name not in member]
            if missing:
                raise ValueError(f"compatibility weights of member {i} lack {', '.join(missing)}")
        widths = {(m["hidden.weight"].shape[1], _image_width(m)) for m in members}
        if len(widths) != 1:
            raise ValueError(f"compatibility members read inputs of different widths: {sorted(widths)}")
        rows = slot_pairs(self.slots)
        n = len(members)
        encoder_parts: list[NDArray[np.float32]] = []
        image_part = np.zeros((max(rows.values()) + 1, _image_width(members[0])), dtype=np.float32)
        for member in members:
            # Scale folded into each slot pair's weights once: scoring is then one product per piece.
            scale = float(np.exp(np.asarray(member["log_scale"]).reshape(-1)[0]))
            scaled = np.asarray(member["pair_weights"], dtype=np.float32) * scale / n
            encoder_width = member["out.weight"].shape[0]
            encoder_parts.append(scaled[:, :encoder_width])
            image_part += scaled[:, encoder_width:]
        pairs = np.concatenate([*encoder_parts, image_part], axis=1).astype(np.float32)
        object.__setattr__(self, "_members", members)
        object.__setattr__(self, "_pairs", {pair: pairs[row] for pair, row in rows.items()})

    @classmethod
    def ensemble(cls, members: Sequence[Mapping[str, NDArray[np.float32]]]) -> CompatScorer:
        """One scorer from several members' weights (each as build_net(...).arrays() gives them)."""
        if not members:
            raise ValueError("an ensemble needs at least one member")
        if len(members) == 1:
            return cls(dict(members[0]))
        return cls(
            {f"m{i}/{name}": value for i, member in enumerate(members) for name, value in member.items()}
        )

    @property
    def members(self) -> int:
        return len(self._member_list())

    def _member_list(self) -> list[dict[str, NDArray[np.float32]]]:
        members: list[dict[str, NDArray[np.float32]]] = self._members  # type: ignore[attr-defined]
        return members

    @property
    def input_width(self) -> int:
        return int(self._member_list()[0]["hidden.weight"].shape[1])

    @property
    def image_width(self) -> int:
        return _image_width(self._member_list()[0])

    @property
    def dim(self) -> int:
        """Width of the scored vector: the members' encoder outputs, then the image embedding."""
        return sum(int(m["out.weight"].shape[0]) for m in self._member_list()) + self.image_width

    def embed(self, inputs: NDArray[np.float32]) -> NDArray[np.float32]:
        """Each garment's scored vector: each member's encoder unit vector, then its image embedding
        (the first columns of recsys.compat.features.input_matrix)."""
        if inputs.ndim != 2 or inputs.shape[1] != self.input_width:
            raise ValueError(f"inputs of shape {inputs.shape}, expected (n, {self.input_width})")
        parts = []
        for w in self._member_list():
            hidden = np.maximum(inputs @ w["hidden.weight"].T + w["hidden.bias"], 0.0)
            out = hidden @ w["out.weight"].T + w["out.bias"]
            parts.append(out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12))
        joined: NDArray[np.float32] = np.concatenate([*parts, inputs[:, : self.image_width]], axis=1).astype(
            np.float32
        )
        return joined

    def pair_weight(self, slot_a: str, slot_b: str) -> NDArray[np.float32]:
        """The subspace of a slot pair, with the scale folded in."""
        pairs: dict[tuple[str, str], NDArray[np.float32]] = self._pairs  # type: ignore[attr-defined]
        weight: NDArray[np.float32] = pairs[(slot_a, slot_b)]
        return weight

    def outfit_query(
        self, outfit: NDArray[np.float32], outfit_slots: Sequence[str], candidate_slot: str
    ) -> NDArray[np.float32]:
        """The vector whose dot product with a candidate's embedding is its mean compatibility with
        the outfit: scoring a whole catalog slot is then one matrix-vector product."""
        if len(outfit) != len(outfit_slots) or not len(outfit):
            raise ValueError("an outfit needs at least one embedded piece and a slot for each")
        query = np.zeros(self.dim, dtype=np.float32)
        for piece, slot in zip(outfit, outfit_slots, strict=True):
            query += piece * self.pair_weight(slot, candidate_slot)
        return query / len(outfit)

    def outfit_scores(
        self,
        outfit: NDArray[np.float32],
        outfit_slots: Sequence[str],
        candidates: NDArray[np.float32],
        candidate_slot: str,
    ) -> NDArray[np.float32]:
        """Mean compatibility of each candidate (embedded, one slot) with the outfit's pieces."""
        scores: NDArray[np.float32] = candidates @ self.outfit_query(outfit, outfit_slots, candidate_slot)
        return scores

    def outfit_score(self, embedded: NDArray[np.float32], slots: Sequence[str]) -> float:
        """A whole outfit's compatibility: the mean over its pairs of pieces (0.0 for one piece)."""
        total, pairs = 0.0, 0
        for i in range(len(embedded)):
            for j in range(i + 1, len(embedded)):
                total += float(embedded[i] @ (embedded[j] * self.pair_weight(slots[i], slots[j])))
                pairs += 1
        return total / pairs if pairs else 0.0

    def as_arrays(self) -> dict[str, NDArray[np.float32]]:
        """The weights to save: plain names for one model, m<i>/<name> for each member of an ensemble."""
        members = self._member_list()
        if len(members) == 1:
            return {name: np.asarray(members[0][name], dtype=np.float32) for name in WEIGHT_NAMES}
        return {
            f"m{i}/{name}": np.asarray(member[name], dtype=np.float32)
            for i, member in enumerate(members)
            for name in WEIGHT_NAMES
        }


def _image_width(member: Mapping[str, NDArray[np.float32]]) -> int:
    return int(member["pair_weights"].shape[1] - member["out.weight"].shape[0])


def build_net(
    input_width: int, *, image_width: int, hidden: int, dim: int, dropout: float, slots: Sequence[str] = SLOTS
) -> Any:
    """The torch twin of CompatScorer, for training (imports torch)."""
    import torch
    from torch import nn

    class CompatNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hidden = nn.Linear(input_width, hidden)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(hidden, dim)
            self.pairs = slot_pairs(slots)
            self.image_width = image_width
            self.pair_weights = nn.Parameter(torch.ones(len(set(self.pairs.values())), dim + image_width))
            self.log_scale = nn.Parameter(torch.tensor([float(np.log(10.0))]))

        def embed(self, x: torch.Tensor) -> torch.Tensor:
            hidden = self.drop(torch.relu(self.hidden(x)))
            return torch.cat([nn.functional.normalize(self.out(hidden), dim=-1), x[:, :image_width]], dim=-1)

        def scores(
            self, pieces: torch.Tensor, candidates: torch.Tensor, pair_rows: torch.Tensor, mask: torch.Tensor
        ) -> torch.Tensor:
            """pieces (B, P, D), candidates (B, C, D), pair_rows (B, P) and mask (B, P) -> (B, C):
            each candidate's mean score against the real (unmasked) pieces of its question."""
            weighted = pieces * self.pair_weights[pair_rows] * self.log_scale.exp()  # (B, P, D)
            per_piece = torch.einsum("bpd,bcd->bpc", weighted, candidates)
            mask_f = mask.float().unsqueeze(-1)
            return (per_piece * mask_f).sum(1) / mask_f.sum(1).clamp(min=1.0)

        def arrays(self) -> dict[str, NDArray[np.float32]]:
            state = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in self.state_dict().items()}
            return {name: state[name] for name in WEIGHT_NAMES}

    return CompatNet()
