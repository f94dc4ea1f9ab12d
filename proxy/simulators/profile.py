"""A simulated person: everything the simulators say about one document, fixed by that document.

The profile is a pure function of the document digits (a keyed hash, no randomness),
so the PDT simulator and the legacy simulator, given the same person, tell the same
story: a risky document has a high score, weak ratings and mostly Alerta/Negativo
insights in both. Nothing here knows a wire format; callers pass the entities their
request carries and render the answer themselves.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from proxy.simulators.catalogue import CatalogueEntry, Entity, Relevance, load_catalogue

__all__ = [
    "MAX_RATING",
    "RATING_PAIRS",
    "EntityPair",
    "PairRating",
    "PersonProfile",
    "derive_profile",
    "load_catalogue",
]

EntityPair = tuple[Entity, Entity]

# The pairs PDT rates, in the order the legacy products list them.
RATING_PAIRS: Final[tuple[EntityPair, ...]] = (
    ("Document", "Email"),
    ("Document", "Phone"),
    ("Document", "ZipCode"),
    ("Phone", "Email"),
    ("Phone", "ZipCode"),
    ("Email", "ZipCode"),
)
# PDT's rating scale is not public (1 and 3 seen); 0..3 maps onto the four-step
# legacy scales (None/Low/Medium/High, Unknown/Weak/Medium/Strong).
MAX_RATING: Final = 3
MIN_INSIGHTS: Final = 2
MAX_INSIGHTS: Final = 8

# Changing this key reshuffles every simulated person: bump the version on purpose only.
# Keyed once and copied per draw: setting up the key costs more than hashing a label.
_KEYED_HASH: Final = hashlib.blake2b(key=b"pdt-proxy/simulator/person-profile/v1", digest_size=8)
_NON_DIGITS: Final = re.compile(r"[^0-9]")
# How far one extra piece of data can move the score: enough to tell requests apart,
# too little to change what kind of person this is.
_MAX_SCORE_SHIFT: Final = 2.5
# A validated phone token is strong evidence that the applicant holds the line.
_PHONE_CHECKED_FACTOR: Final = 0.5


@dataclass(frozen=True, slots=True)
class PairRating:
    pair: EntityPair
    level: int


@dataclass(frozen=True, slots=True)
class PersonProfile:
    document: str
    risk_score: float
    ratings: tuple[PairRating, ...]
    insights: tuple[CatalogueEntry, ...]

    @property
    def insight_codes(self) -> frozenset[str]:
        return frozenset(entry.code for entry in self.insights)

    def rating(self, pair: EntityPair) -> int:
        for rating in self.ratings:
            if rating.pair == pair:
                return rating.level
        raise KeyError(pair)

    def score_for(self, present: frozenset[Entity]) -> float:
        """The fraud score given which entities the request carries (0..100, higher is riskier)."""
        shift = sum(
            (_unit(self.document, f"score-shift:{entity}") * 2 - 1) * _MAX_SCORE_SHIFT
            for entity in sorted(present - {"Document"})
        )
        return round(min(100.0, max(0.0, self.risk_score + shift)), 2)

    def phone_checked_score(self, present: frozenset[Entity]) -> float:
        return round(self.score_for(present) * _PHONE_CHECKED_FACTOR, 2)

    def ratings_for(self, present: frozenset[Entity]) -> tuple[PairRating, ...]:
        """Only the pairs whose two sides are both in the request can be rated."""
        return tuple(r for r in self.ratings if r.pair[0] in present and r.pair[1] in present)

    def insights_for(self, present: frozenset[Entity]) -> tuple[CatalogueEntry, ...]:
        """Only insights about data the request carries can be reported."""
        return tuple(entry for entry in self.insights if present.issuperset(entry.related_to))


def derive_profile(document: str, catalogue: Sequence[CatalogueEntry]) -> PersonProfile:
    """The profile of the person holding ``document`` (punctuation is ignored)."""
    digits = _NON_DIGITS.sub("", document)
    # Squaring a uniform draw skews scores low: most applicants are legitimate.
    risk = round(100 * _unit(digits, "risk") ** 2, 2)
    return PersonProfile(
        document=digits,
        risk_score=risk,
        ratings=tuple(PairRating(pair, _rating_level(digits, pair, risk)) for pair in RATING_PAIRS),
        insights=_draw_insights(digits, risk, catalogue),
    )


def _unit(document: str, label: str) -> float:
    """A number in [0, 1) fixed by the document and the question being asked of it."""
    draw = _KEYED_HASH.copy()
    draw.update(f"{label}\x00{document}".encode())
    return int.from_bytes(draw.digest(), "big") / 2**64


def _rating_level(document: str, pair: EntityPair, risk: float) -> int:
    # Safe people's data hangs together; fraudsters combine data that does not.
    strength = (1 - risk / 100) * MAX_RATING + (_unit(document, f"rating:{pair[0]}/{pair[1]}") - 0.5) * 1.5
    return min(MAX_RATING, max(0, round(strength)))


def _relevance_weight(relevance: Relevance, risk: float) -> float:
    r = risk / 100
    # Every weight stays above zero so any person can get any insight, only less often.
    if relevance == "Positivo":
        return (1 - r) ** 2 + 0.05
    if relevance == "Alerta":
        return r + 0.15
    return r**2 + 0.02


def _draw_insights(
    document: str, risk: float, catalogue: Sequence[CatalogueEntry]
) -> tuple[CatalogueEntry, ...]:
    count = MIN_INSIGHTS + int(_unit(document, "insight-count") * (MAX_INSIGHTS - MIN_INSIGHTS + 1))
    # Weighted sampling without replacement (Efraimidis-Spirakis keys): each code's
    # draw depends only on the document and the code, so editing one catalogue row
    # leaves everyone's other insights where they were.
    keyed = sorted(
        catalogue,
        key=lambda entry: (
            _unit(document, f"insight:{entry.code}") ** (1 / _relevance_weight(entry.relevance, risk))
        ),
        reverse=True,
    )
    return tuple(sorted(keyed[:count], key=lambda entry: entry.code))
