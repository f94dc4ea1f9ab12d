"""Controlled disagreement between the legacy answer and what PDT says about a person.

Who disagrees is a keyed hash of the document, compared with ``disagreement_rate``:
the same person is always picked (or never), whatever the call, the product or the
process, and a different key picks other people. A picked person's legacy answer
gets one or more of three small, bounded perturbations, also fixed by the hash:

- ``score``: moved by 1 to ``max_score_shift`` whole points (away from the 0/100
  bound when the move would cross it);
- ``insight``: one of the insights the answer would show goes missing;
- ``rating``: one rating is one step away on the product's scale.

A perturbation the answer cannot carry (Mobile Trust has no score; an answer with no
rating) is skipped; when none of the picked ones fits, one that fits is applied
instead, so a picked person's answer always differs, and never by more than these
bounds. A backtest against the PDT simulator therefore sees exactly
``disagreement_rate`` of people disagree, each by a known, bounded amount.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

from proxy.simulators.legacy.facts import Facts
from proxy.simulators.profile import MAX_RATING, PairRating

__all__ = ["KINDS", "Disagreement", "Kind", "Perturbation"]

Kind = Literal["score", "insight", "rating"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
_SCORE_LOW: Final = 0.0
_SCORE_HIGH: Final = 100.0


@dataclass(frozen=True, slots=True)
class Perturbation:
    """What one person's legacy answers get wrong (never empty) and by how much."""

    kinds: frozenset[Kind]
    # Non-zero whole points, |shift| <= max_score_shift.
    score_shift: int
    # Which of the shown insights goes missing / which rating moves, as a fraction
    # of the list, so the choice fits whatever the answer shows.
    insight_pick: float
    rating_pick: float
    rating_up: bool
    # Chooses a perturbation the answer can carry when none of ``kinds`` fits it.
    fallback: float

    def applicable(self, facts: Facts) -> tuple[Kind, ...]:
        """The perturbations this answer receives (empty only for an answer with nothing to perturb)."""
        fits = tuple(kind for kind in KINDS if _fits(kind, facts))
        if not fits:
            return ()
        chosen = tuple(kind for kind in fits if kind in self.kinds)
        return chosen or (fits[int(self.fallback * len(fits))],)

    def apply(self, facts: Facts) -> Facts:
        chosen = self.applicable(facts)
        if "score" in chosen and facts.score is not None:
            facts = replace(facts, score=self._shift(facts.score))
        if "insight" in chosen:
            drop = int(self.insight_pick * len(facts.insights))
            facts = replace(facts, insights=facts.insights[:drop] + facts.insights[drop + 1 :])
        if "rating" in chosen:
            index = int(self.rating_pick * len(facts.ratings))
            ratings = list(facts.ratings)
            ratings[index] = self._step(ratings[index])
            facts = replace(facts, ratings=tuple(ratings))
        return facts

    def _shift(self, score: float) -> float:
        moved = score + self.score_shift
        if not _SCORE_LOW <= moved <= _SCORE_HIGH:
            moved = score - self.score_shift
        # Keep the product's precision: a whole score stays whole, two decimals stay two.
        return round(moved, 2) if isinstance(score, float) else moved

    def _step(self, rating: PairRating) -> PairRating:
        up = (self.rating_up and rating.level < MAX_RATING) or rating.level == 0
        return PairRating(rating.pair, rating.level + 1 if up else rating.level - 1)


def _fits(kind: Kind, facts: Facts) -> bool:
    if kind == "score":
        return facts.score is not None
    if kind == "insight":
        return bool(facts.insights)
    return bool(facts.ratings)


class Disagreement:
    """Picks the people whose legacy answers disagree, and how (pure; cache-free)."""

    def __init__(self, *, rate: float, key: str, max_score_shift: int) -> None:
        if not 0 <= rate <= 1:
            raise ValueError("the disagreement rate is a fraction from 0 to 1")
        if max_score_shift < 1:
            raise ValueError("max_score_shift must be at least 1")
        self.rate = rate
        self.max_score_shift = max_score_shift
        # blake2b takes keys up to 64 bytes; any text key is reduced to 32 first.
        digest = hashlib.blake2b(key.encode(), digest_size=32).digest()
        self._hash = hashlib.blake2b(key=digest, digest_size=8)

    def _unit(self, document: str, label: str) -> float:
        draw = self._hash.copy()
        draw.update(f"{label}\x00{document}".encode())
        return int.from_bytes(draw.digest(), "big") / 2**64

    def selects(self, document: str) -> bool:
        return self._unit(document, "select") < self.rate

    def for_person(self, document: str) -> Perturbation | None:
        """This person's perturbation, or None when their legacy answers agree with PDT."""
        if not self.selects(document):
            return None
        # 1..7: a non-empty subset of the three kinds.
        mask = 1 + int(self._unit(document, "kinds") * (2 ** len(KINDS) - 1))
        magnitude = 1 + int(self._unit(document, "score-size") * self.max_score_shift)
        sign = 1 if self._unit(document, "score-sign") < 0.5 else -1
        return Perturbation(
            kinds=frozenset(kind for bit, kind in enumerate(KINDS) if mask & (1 << bit)),
            score_shift=sign * magnitude,
            insight_pick=self._unit(document, "insight"),
            rating_pick=self._unit(document, "rating"),
            rating_up=self._unit(document, "rating-direction") < 0.5,
            fallback=self._unit(document, "fallback"),
        )
