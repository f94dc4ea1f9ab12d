"""Financial Fraud Radar answers, as pure functions of a transaction.

FFR took lists of addresses and phones; the person's data is the first residential
one of each (``TypeID`` 1), else the first, as the proxy hands PDT one of each. The
score is the profile's, clamped to 0-100 and rounded half to even to a whole
number. Each insight becomes an FFR variable through ``codes.csv``, which gives it
a section (negative report, positive report, attack alert) and a relevance weight:
every section lists its most relevant variables first, up to the caps the
contract sets (``maxItems``: 7, 3 and 3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from proxy.simulators.catalogue import Entity
from proxy.simulators.legacy.facts import Facts, clamp_score, entities
from proxy.simulators.legacy.store import LegacyTransaction
from proxy.simulators.legacy.vocabulary import FFR_SECTIONS, FfrVocabulary

__all__ = ["answer", "facts", "pick", "request_entities"]

# The legacy type id of a residential address or phone (reconstructed, as the mapping's).
RESIDENTIAL: Final = 1


def pick(items: Any) -> Mapping[str, Any] | None:
    """The first residential item of a list, else the first; None for an empty or absent list."""
    if not isinstance(items, list):
        return None
    objects = [item for item in items if isinstance(item, dict)]
    preferred = [item for item in objects if item.get("TypeID") == RESIDENTIAL]
    chosen = preferred or objects
    return chosen[0] if chosen else None


def request_entities(request: Mapping[str, Any]) -> frozenset[Entity]:
    phone = pick(request.get("Phones"))
    address = pick(request.get("Addresses"))
    return entities(
        email=request.get("Email"),
        phone_number=phone.get("Number") if phone is not None else None,
        zip_code=address.get("ZipCode") if address is not None else None,
        session_id=request.get("SessionID"),
    )


def _most_relevant(codes: Sequence[str], vocabulary: FfrVocabulary, cap: int) -> list[str]:
    weighted: list[tuple[int, str]] = []
    unweighted: list[str] = []
    for code in codes:
        weight = vocabulary.weight.get(code)
        if weight is None:
            unweighted.append(code)
        else:
            weighted.append((int(weight), code))
    # Stable: equal weights keep the profile's order; codes without a weight go last.
    weighted.sort(key=lambda pair: pair[0], reverse=True)
    return ([code for _, code in weighted] + unweighted)[:cap]


def facts(transaction: LegacyTransaction, vocabulary: FfrVocabulary) -> Facts:
    """What FFR says about the person, before any disagreement; insights section by section."""
    profile, present = transaction.profile, transaction.present
    shown = [
        entry.code
        for entry in profile.insights_for(present)
        if vocabulary.code.get(entry.code) is not None and vocabulary.description.get(entry.code) is not None
    ]
    ordered: list[str] = []
    for section, _ in FFR_SECTIONS:
        in_section = [code for code in shown if vocabulary.section.get(code) == section]
        ordered.extend(_most_relevant(in_section, vocabulary, vocabulary.caps[section]))
    return Facts(score=round(clamp_score(profile.score_for(present))), ratings=(), insights=tuple(ordered))


def answer(transaction: LegacyTransaction, vocabulary: FfrVocabulary) -> dict[str, Any]:
    said = facts(transaction, vocabulary)
    if transaction.perturbation is not None:
        said = transaction.perturbation.apply(said)
    sections: dict[str, list[dict[str, str]]] = {section: [] for section, _ in FFR_SECTIONS}
    for code in said.insights:
        section = vocabulary.section.get(code)
        ffr_code, description = vocabulary.code.get(code), vocabulary.description.get(code)
        if section in sections and ffr_code is not None and description is not None:
            sections[section].append({"Code": ffr_code, "Description": description})
    return {
        "OrderID": transaction.reference,
        "TransactionID": transaction.id,
        "Score": int(said.score if said.score is not None else 0),
        "Reports": {"Negative": sections["Negative"], "Positive": sections["Positive"]},
        "AttackAlerts": sections["AttackAlert"],
    }
