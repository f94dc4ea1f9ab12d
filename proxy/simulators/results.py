"""PDT module results for a stored transaction, computed from its person's profile.

Pure functions from (profile, transaction body, time) to PDT wire objects; the store
keeps what they return and the routes echo it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final, Literal

from proxy.simulators.catalogue import CatalogueEntry, Entity
from proxy.simulators.profile import PersonProfile

__all__ = [
    "DEFAULT_PACKS",
    "INITIAL",
    "MODULES",
    "PHONE_CHECKED",
    "Module",
    "insight_results",
    "phone_checked_score",
    "present_entities",
    "rating_results",
    "score_result",
]

INITIAL: Final = "Initial"
PHONE_CHECKED: Final = "PhoneChecked"

# Named as a pack answer names them (singular keys).
Module = Literal["score", "rating", "insight"]
MODULES: Final[tuple[Module, ...]] = ("score", "rating", "insight")
# PDT's pack names are not public (reconstructed); ``datatrust`` is what DT v1 needs.
DEFAULT_PACKS: Final[Mapping[str, frozenset[Module]]] = MappingProxyType({"datatrust": frozenset(MODULES)})


def present_entities(transaction: Mapping[str, Any]) -> frozenset[Entity]:
    """The PDT entities a transaction carries. Document is mandatory, so always there."""
    present: set[Entity] = {"Document"}
    if transaction.get("email"):
        present.add("Email")
    phone = transaction.get("phone")
    if isinstance(phone, dict) and phone.get("number"):
        present.add("Phone")
    address = transaction.get("address")
    if isinstance(address, dict) and address.get("zipCode"):
        present.add("ZipCode")
    if transaction.get("sessionId"):
        present.add("Device")
    return frozenset(present)


def score_result(profile: PersonProfile, transaction: Mapping[str, Any], created_at: str) -> dict[str, Any]:
    value = profile.score_for(present_entities(transaction))
    return {"value": value, "reason": INITIAL, "createdAt": created_at}


def phone_checked_score(
    profile: PersonProfile, transaction: Mapping[str, Any], created_at: str
) -> dict[str, Any]:
    value = profile.phone_checked_score(present_entities(transaction))
    return {"value": value, "reason": PHONE_CHECKED, "createdAt": created_at}


def rating_results(
    profile: PersonProfile, transaction: Mapping[str, Any], created_at: str
) -> list[dict[str, Any]]:
    return [
        {"value": rating.level, "reason": INITIAL, "createdAt": created_at, "relatedTo": list(rating.pair)}
        for rating in profile.ratings_for(present_entities(transaction))
    ]


def insight_results(profile: PersonProfile, transaction: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [_insight(entry) for entry in profile.insights_for(present_entities(transaction))]


def _insight(entry: CatalogueEntry) -> dict[str, Any]:
    return {
        "code": entry.code,
        "description": entry.description,
        "type": entry.type,
        "category": entry.category,
        "relevance": entry.relevance,
        "relatedTo": list(entry.related_to),
    }
