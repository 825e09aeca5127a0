"""Why a piece is suggested, in words a shopper or an editor can check.

Two kinds of evidence: the library outfits that support the suggestion (at most MAX_OUTFITS, with
their ids, so an editor can open them), and attribute matches counted over the approved library
("navy goes with camel in 14 stylist outfits"). Counts come from `PairCounts`, built once per index
build from the library's outfits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

MAX_OUTFITS: Final = 3
MIN_OUTFITS: Final = 3  # fewer stylist outfits than this is an accident, not a rule


@dataclass(frozen=True)
class Reason:
    outfits: tuple[int, ...]
    matches: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"outfits": list(self.outfits), "matches": list(self.matches)}


class PairCounts:
    """How many library outfits wear a value (say a colour group) on one piece and another value on
    another piece. Symmetric; a value is not counted with itself on the same piece."""

    def __init__(self, outfits: Iterable[Sequence[str]]) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._values: Counter[str] = Counter()  # outfits wearing each value
        self.outfits = 0
        for values in outfits:
            present = sorted({v for v in values if v})
            self.outfits += 1
            self._values.update(present)
            for i, a in enumerate(present):
                for b in present[i:]:
                    # a pair of equal values needs two pieces wearing it
                    if a != b or sum(1 for v in values if v == a) >= 2:
                        self._counts[(a, b)] += 1

    def count(self, a: str, b: str) -> int:
        return self._counts.get((a, b) if a <= b else (b, a), 0)

    def lift(self, a: str, b: str) -> float:
        """How much more often the pair is worn than if the two values were picked independently: a
        pair of basics (black with white) is common without being a choice."""
        expected = self._values[a] * self._values[b] / self.outfits if self.outfits else 0.0
        return self.count(a, b) / expected if expected else 0.0


def _words(value: str) -> str:
    return value.strip().lower()


def explain(
    *,
    supporting_outfits: Sequence[int],
    query_values: Sequence[str],
    candidate_value: str,
    pairs: PairCounts | None,
) -> Reason:
    """The reason for one suggestion: its strongest supporting outfits, and the pairing of the
    candidate's value with one of the query garments' values that stylists choose most deliberately
    (highest lift among pairs worn in at least MIN_OUTFITS outfits), with its count."""
    matches: list[str] = []
    if pairs is not None and candidate_value:
        attested = sorted(
            (
                (pairs.lift(v, candidate_value), pairs.count(v, candidate_value), v)
                for v in set(query_values)
                if v and pairs.count(v, candidate_value) >= MIN_OUTFITS
            ),
            key=lambda pair: (-pair[0], -pair[1], pair[2]),
        )
        if attested:
            _, count, value = attested[0]
            matches.append(
                f"{_words(value)} goes with {_words(candidate_value)} in {count} stylist outfits"
                if value != candidate_value
                else f"{_words(value)} with {_words(value)} in {count} stylist outfits"
            )
    return Reason(outfits=tuple(supporting_outfits[:MAX_OUTFITS]), matches=tuple(matches))
