"""What a legacy product says about one person, before its wire shape.

``Facts`` are the score, ratings and insights a legacy answer shows, still in PDT
terms (PDT insight codes, PDT rating pairs and levels), taken from the same
``PersonProfile`` the PDT simulator answers from and restricted to what the legacy
product can express through its code tables. The product modules build them, the
disagreement model perturbs them, and the product modules render them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy.vocabulary import InsightVocabulary, RatingVocabulary, pair_key
from proxy.simulators.profile import PairRating, PersonProfile
from proxy.simulators.results import present_entities

__all__ = [
    "Facts",
    "clamp_score",
    "digits",
    "entities",
    "insight_items",
    "integer",
    "rating_items",
    "shown_insights",
    "shown_ratings",
]

_NON_DIGITS: Final = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class Facts:
    # In the product's own precision; None when the product has no score (Mobile Trust).
    score: float | None
    # Only the pairs the product reports, in the profile's order.
    ratings: tuple[PairRating, ...]
    # PDT codes of the insights the product shows, in the order it shows them.
    insights: tuple[str, ...]


def digits(value: Any) -> str | None:
    """The digits of a string or number (``"06454-050"`` -> ``"06454050"``); None when absent."""
    if value is None or isinstance(value, bool):
        return None
    text = _NON_DIGITS.sub("", str(value))
    return text or None


def integer(value: Any) -> int | None:
    text = digits(value)
    return int(text) if text is not None else None


def entities(*, email: Any, phone_number: Any, zip_code: Any, session_id: Any) -> frozenset[Entity]:
    """The PDT entities a legacy request carries, judged exactly as the PDT simulator judges
    the PDT request the proxy would send for it."""
    return present_entities(
        {
            "email": email,
            "phone": {"number": integer(phone_number)},
            "address": {"zipCode": digits(zip_code)},
            "sessionId": session_id,
        }
    )


def clamp_score(value: float) -> float:
    return min(100.0, max(0.0, value))


def shown_ratings(
    profile: PersonProfile, present: frozenset[Entity], vocabulary: RatingVocabulary
) -> tuple[PairRating, ...]:
    """The profile's ratings of the pairs present that the product has a name for."""
    return tuple(
        rating
        for rating in profile.ratings_for(present)
        if vocabulary.relation.get(pair_key(rating.pair)) is not None
    )


def shown_insights(
    profile: PersonProfile, present: frozenset[Entity], vocabulary: InsightVocabulary
) -> tuple[str, ...]:
    """The profile's insights about the data present that the product has a code for."""
    return tuple(
        entry.code for entry in profile.insights_for(present) if vocabulary.code.get(entry.code) is not None
    )


def rating_items(
    ratings: Iterable[PairRating], vocabulary: RatingVocabulary, *, relation_key: str, value_key: str
) -> list[dict[str, str]]:
    items: list[dict[str, str]] = []
    for rating in ratings:
        relation = vocabulary.relation.get(pair_key(rating.pair))
        value = vocabulary.value.get(str(rating.level))
        if relation is not None and value is not None:
            items.append({relation_key: relation, value_key: value})
    return items


def insight_items(
    codes: Iterable[str], vocabulary: InsightVocabulary, *, keys: tuple[str, str, str]
) -> list[dict[str, str]]:
    """``[{code, description, type}]`` under the product's own key names."""
    items: list[dict[str, str]] = []
    for code in codes:
        legacy_code = vocabulary.code.get(code)
        description = vocabulary.description.get(code)
        kind = vocabulary.type.get(code)
        if legacy_code is not None and description is not None and kind is not None:
            items.append({keys[0]: legacy_code, keys[1]: description, keys[2]: kind})
    return items
