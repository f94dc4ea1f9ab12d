"""Mobile Trust answers, as pure functions of a stored transaction.

Mobile Trust rates only the CPF's links (to the phone, the e-mail, the zip code)
and has no score. Ratings and insights are the person's profile for the data the
request carries, named through Mobile Trust's own tables (``rating-relations``,
``rating-values``, ``insights``): its codes are not PDT's. The SMS status is
``proxy.simulators.legacy.sms``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy.facts import (
    Facts,
    entities,
    insight_items,
    rating_items,
    shown_insights,
    shown_ratings,
)
from proxy.simulators.legacy.sms import SmsStatus
from proxy.simulators.legacy.store import LegacyTransaction
from proxy.simulators.legacy.vocabulary import InsightVocabulary, RatingVocabulary

__all__ = ["answer", "facts", "request_entities"]


def request_entities(request: Mapping[str, Any]) -> frozenset[Entity]:
    # Mobile Trust never sent a fingerprint session.
    return entities(
        email=request.get("Email"),
        phone_number=request.get("Phone"),
        zip_code=request.get("ZipCode"),
        session_id=None,
    )


def facts(transaction: LegacyTransaction, insights: InsightVocabulary, ratings: RatingVocabulary) -> Facts:
    profile, present = transaction.profile, transaction.present
    return Facts(
        score=None,
        ratings=shown_ratings(profile, present, ratings),
        insights=shown_insights(profile, present, insights),
    )


def answer(
    transaction: LegacyTransaction,
    insights: InsightVocabulary,
    ratings: RatingVocabulary,
    *,
    sms_status: SmsStatus,
) -> dict[str, Any]:
    said = facts(transaction, insights, ratings)
    if transaction.perturbation is not None:
        said = transaction.perturbation.apply(said)
    return {
        "TransactionID": transaction.id,
        "Document": transaction.profile.document,
        "Ratings": rating_items(said.ratings, ratings, relation_key="Relation", value_key="Value"),
        "Insights": insight_items(said.insights, insights, keys=("Code", "Description", "Type")),
        "Sms": {"Status": sms_status},
    }
