"""The mislabel audit: garments whose stated category the trained model disagrees with, ranked by how
likely the stated label is wrong.

A garment is flagged when the model's predicted type path (slot → family → type) differs from the
stated one; the predicted path is the suggestion. Its confidence, in (0, 1), is

    confidence = share * (1 - confusion)

    share     = p(suggested) / (p(suggested) + p(stated))
                how much of the model's belief in the two candidates goes to its suggestion.
                p(suggested) is the suggestion's score in `type_scores` (else the path's confidence);
                p(stated) is the stated type's score in `type_scores`, else the smallest listed score
                (an unlisted type is at most that likely), capped by the stated slot's score in
                `slot_scores` (a type is no likelier than its slot), never below FLOOR (scores are
                stored rounded to 4 decimals, so a tiny probability reads as 0).
    confusion = P(true = stated | predicted = suggested) on the training run's validation part:
                n(stated, suggested) / (n(·, suggested) + 1), the share of the model's `suggested`
                predictions that were garments labelled `stated`, with one pseudo-observation of
                another type (so one odd validation garment cannot zero a confidence). When the model
                often predicts `suggested` for garments truly labelled `stated`, a disagreement is the
                model's habit rather than a wrong label. A mix-up never seen, or no matrix, weighs 0.

The confidence rises with the model's score for its suggestion and falls with its score for the
stated type and with how often validation saw that very mix-up; nothing else enters. Ties are broken
by key, so the ranking is deterministic. Plain Python: no Django, no torch.

Why no add-one over all types, (n + 1) / (n(·, suggested) + K): a mix-up never seen would then weigh
1 / (n(·, suggested) + K), which differs with how common the suggested type is; when the model is
sure (share ≈ 1 for most planted mislabels) that noise, not the model, orders the list, and the
planted mislabels of bench/eval_audit.py rank measurably worse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

TypePath = tuple[str, str, str]  # (slot, family, type)

# Half the rounding step of the stored scores (4 decimals): what a score that reads 0 may have been.
FLOOR: Final = 5e-5


@dataclass(frozen=True)
class AuditInput:
    key: str  # the caller's id for the garment ("catalog:12"); ties in the ranking go by it
    stated: TypePath
    # The model's reading of the photo, as GarmentPrediction.as_json() writes it (empty: untrained).
    prediction: Mapping[str, Any]


@dataclass(frozen=True)
class Disagreement:
    key: str
    stated: TypePath
    suggested: TypePath
    confidence: float  # how likely the stated label is wrong (see the module docstring)
    suggested_probability: float
    stated_probability: float
    confusion: float  # P(true = stated | predicted = suggested) on validation; 0 without a matrix


def type_key(path: TypePath) -> str:
    """A type path as the model's scores and the confusion matrix name it: "slot/family/type"."""
    return "/".join(path)


def predicted_path(prediction: Mapping[str, Any]) -> TypePath | None:
    """The model's type path, or None when it names no type (untrained or zero-shot slots only)."""
    try:
        path = tuple(str(prediction[level]["value"]) for level in ("slot", "family", "type"))
    except (KeyError, TypeError):
        return None
    return (path[0], path[1], path[2]) if all(path) else None


class _Confusion:
    """Column counts of the validation confusion of types ("stated|predicted" → count)."""

    def __init__(self, counts: Mapping[str, int] | None) -> None:
        self.pairs: Mapping[str, int] = counts or {}
        self.predicted: Counter[str] = Counter()
        for pair, count in self.pairs.items():
            self.predicted[pair.partition("|")[2]] += int(count)

    def rate(self, stated: TypePath, suggested: TypePath) -> float:
        pair = int(self.pairs.get(f"{type_key(stated)}|{type_key(suggested)}", 0))
        return pair / (self.predicted[type_key(suggested)] + 1)


def _scores(prediction: Mapping[str, Any], name: str) -> dict[str, float]:
    raw = prediction.get(name)
    return {str(k): float(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _judge(garment: AuditInput, confusion: _Confusion) -> Disagreement | None:
    suggested = predicted_path(garment.prediction)
    if suggested is None or suggested == garment.stated:
        return None
    types = _scores(garment.prediction, "type_scores")
    slots = _scores(garment.prediction, "slot_scores")
    p_suggested = types.get(type_key(suggested), float(garment.prediction["type"].get("confidence", 0.0)))
    p_stated = types.get(type_key(garment.stated), min(types.values(), default=FLOOR))
    p_stated = min(p_stated, slots.get(garment.stated[0], p_stated))
    p_suggested, p_stated = max(p_suggested, FLOOR), max(p_stated, FLOOR)
    rate = confusion.rate(garment.stated, suggested)
    share = p_suggested / (p_suggested + p_stated)
    return Disagreement(
        key=garment.key,
        stated=garment.stated,
        suggested=suggested,
        confidence=share * (1.0 - rate),
        suggested_probability=p_suggested,
        stated_probability=p_stated,
        confusion=rate,
    )


def rank_disagreements(
    garments: Sequence[AuditInput], confusion: Mapping[str, Mapping[str, int]] | None
) -> list[Disagreement]:
    """The garments whose stated type path the model disagrees with, most confident first.

    `confusion` is the artefact manifest's "validation_confusion" ({"type": {"stated|predicted":
    count}, ...}); None (older artefacts) weighs nothing. Garments without a typed prediction are
    never flagged.
    """
    counts = _Confusion((confusion or {}).get("type"))
    found = [d for d in (_judge(g, counts) for g in garments) if d is not None]
    return sorted(found, key=lambda d: (-d.confidence, d.key))
