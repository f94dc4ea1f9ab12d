"""Data Trust v1 answers, as pure functions of a stored transaction.

Score, ratings and insights are the person's profile for the data the request
carries (the PDT simulator's numbers), named through Data Trust's DE-PARA tables:
the score to two decimals, each rated pair and level through ``rating-pairs`` and
``rating-values``, each insight through ``insights`` (codes without a row are left
out, as the table's policy says). Once the person validates an SMS code the score
is the lower "phone checked" one, as PDT reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy.facts import (
    Facts,
    clamp_score,
    entities,
    insight_items,
    rating_items,
    shown_insights,
    shown_ratings,
)
from proxy.simulators.legacy.store import LegacyTransaction
from proxy.simulators.legacy.vocabulary import InsightVocabulary, RatingVocabulary

__all__ = ["answer", "facts", "request_entities"]


def request_entities(request: Mapping[str, Any]) -> frozenset[Entity]:
    phone = request.get("Phone")
    return entities(
        email=request.get("Email"),
        phone_number=phone.get("Number") if isinstance(phone, dict) else None,
        zip_code=request.get("ZipCode"),
        session_id=request.get("SessionId"),
    )


def facts(transaction: LegacyTransaction, insights: InsightVocabulary, ratings: RatingVocabulary) -> Facts:
    """What Data Trust says about the person, before any disagreement."""
    profile, present = transaction.profile, transaction.present
    score = profile.phone_checked_score(present) if transaction.phone_checked else profile.score_for(present)
    return Facts(
        score=round(clamp_score(score), 2),
        ratings=shown_ratings(profile, present, ratings),
        insights=shown_insights(profile, present, insights),
    )


def answer(
    transaction: LegacyTransaction, insights: InsightVocabulary, ratings: RatingVocabulary
) -> dict[str, Any]:
    """The POST and GET answer body."""
    said = facts(transaction, insights, ratings)
    if transaction.perturbation is not None:
        said = transaction.perturbation.apply(said)
    return {
        "transactionId": transaction.id,
        "identifierId": transaction.reference,
        "createdAt": transaction.created_at,
        "score": said.score,
        "ratings": rating_items(said.ratings, ratings, relation_key="relatedTo", value_key="value"),
        "insights": insight_items(said.insights, insights, keys=("code", "description", "type")),
    }
