"""Why a candidate set was refused, in the words ``pdt-proxy lint`` uses.

A ``MappingError`` already carries file, rule and reason. A ``ConfigError``
(the tenant file, the pricing file) carries one line, ``<file>: <reason>``, which
is split back into the same three fields so that every refusal has one shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.errors import ConfigError, MappingError

__all__ = ["Refusal", "refusal_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    file: str
    rule: str | None
    reason: str

    def to_json(self) -> dict[str, str | None]:
        return {"file": self.file, "rule": self.rule, "reason": self.reason}

    @property
    def text(self) -> str:
        where = f"{self.file}: rule {self.rule!r}" if self.rule else self.file
        return f"{where}: {self.reason}"


def refusal_of(error: Exception) -> Refusal:
    """The refusal an error stands for; anything unexpected names its type only
    (a message could quote a value read from a file)."""
    if isinstance(error, MappingError):
        return Refusal(file=error.file, rule=error.rule, reason=error.reason)
    if isinstance(error, ConfigError):
        file, separator, reason = str(error).partition(": ")
        if separator:
            return Refusal(file=file, rule=None, reason=reason)
        return Refusal(file="-", rule=None, reason=str(error))
    return Refusal(file="-", rule=None, reason=f"unexpected {type(error).__name__} while loading the set")
