"""Plain words for the bank's copy: what a legacy field is, what kind of difference it shows. Pure.

A bank's risk team does not read ``dt.resp.score`` or ``Reports.Negative[]``: the
bank's copy of the backtest names each field as the product's documentation would
describe it, in the reader's language. Unknown fields fall back to a sentence that
still names the field, so a new mapping never leaves an empty cell.
"""

from __future__ import annotations

from typing import Final

__all__ = ["difference_words", "field_words"]

# Keyed by the field path lower-cased with list markers removed: the three products
# spell the same idea with different casing (score / Score, ratings / Ratings).
_FIELDS: Final[dict[str, dict[str, str]]] = {
    "$status": {"pt_BR": "o código de status HTTP da resposta", "en": "the answer's HTTP status code"},
    "score": {"pt_BR": "o score de risco (0 a 100)", "en": "the risk score (0 to 100)"},
    "ratings": {"pt_BR": "a lista de classificações", "en": "the list of ratings"},
    "ratings.value": {
        "pt_BR": "o nível de cada classificação (por exemplo, alto ou baixo)",
        "en": "each rating's level (for example high or low)",
    },
    "ratings.relatedto": {
        "pt_BR": "a que dado cada classificação se refere",
        "en": "what each rating is about",
    },
    "ratings.relation": {
        "pt_BR": "a que dado cada classificação se refere",
        "en": "what each rating is about",
    },
    "insights": {"pt_BR": "os indicadores (insights) devolvidos", "en": "the insights returned"},
    "insights.code": {"pt_BR": "o código de cada indicador", "en": "each insight's code"},
    "reports.negative": {"pt_BR": "os indicadores negativos", "en": "the negative indicators"},
    "reports.positive": {"pt_BR": "os indicadores positivos", "en": "the positive indicators"},
    "attackalerts": {"pt_BR": "os alertas de ataque", "en": "the attack alerts"},
    "identifierid": {"pt_BR": "o identificador do pedido", "en": "the order identifier"},
    "orderid": {"pt_BR": "o identificador do pedido", "en": "the order identifier"},
    "document": {"pt_BR": "o documento (CPF) devolvido", "en": "the document (CPF) returned"},
    "sms.status": {"pt_BR": "a situação do SMS", "en": "the SMS status"},
    "status": {"pt_BR": "a situação do token", "en": "the token status"},
    "type": {"pt_BR": "o tipo do token (SMS ou e-mail)", "en": "the token type (SMS or e-mail)"},
}

_KINDS: Final[dict[str, dict[str, str]]] = {
    "status": {"pt_BR": "respostas com status diferentes", "en": "answers with different statuses"},
    "value": {"pt_BR": "valores diferentes", "en": "different values"},
    "tolerance": {
        "pt_BR": "diferença maior que a tolerância combinada",
        "en": "a gap larger than the agreed tolerance",
    },
    "missing": {"pt_BR": "presente só na resposta atual", "en": "only in the current answer"},
    "extra": {"pt_BR": "presente só na resposta da PDT", "en": "only in PDT's answer"},
}


def _key(path: str) -> str:
    return path.replace("[]", "").lower()


def field_words(path: str, locale: str) -> str:
    words = _FIELDS.get(_key(path))
    if words is not None:
        return words.get(locale, words["pt_BR"])
    return ("o campo {field}" if locale == "pt_BR" else "the field {field}").format(field=path)


def difference_words(kind: str, locale: str) -> str:
    words = _KINDS.get(kind)
    if words is None:
        return kind
    return words.get(locale, words["pt_BR"])
