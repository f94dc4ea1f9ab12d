"""A product's binding profile: its backend's body reading, conversions and routing.

Built once from the ``binding`` key of ``product.yaml`` (``build_profile``); a
profile or conversion name the code does not know is refused there, so ``serve``
and ``lint`` both stop on it. ``STRICT`` is what a product without the key gets:
no conversions and its paths exactly as declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from proxy.mapping.conversions import PROFILES, Conversion
from proxy.mapping.spec import BindingSpec

__all__ = ["STRICT", "BindingProfile", "BodyRules", "RoutingRules", "build_profile"]

# The charsets ASP.NET's JSON formatters declared (Encoding.UTF8, Encoding.Unicode),
# by their WebName, with the Python codec that reads them.
_CODECS: Final[Mapping[str, str]] = MappingProxyType({"utf-8": "utf-8", "utf-16": "utf-16"})
_ANY_JSON: Final = "application/*+json"


@dataclass(frozen=True)
class BodyRules:
    """How the backend's formatter read a body: media types and character sets."""

    # Lower-case media types; "application/*+json" stands for every +json suffix.
    media_types: frozenset[str]
    # Charset name (lower case) → Python codec.
    charsets: Mapping[str, str]
    # The codec for a charset not listed, or None when the backend answered 415.
    unknown_charset: str | None

    def accepts(self, media_type: str) -> bool:
        if media_type in self.media_types:
            return True
        return (
            _ANY_JSON in self.media_types
            and media_type.startswith("application/")
            and (media_type.endswith("+json"))
        )

    def codec(self, charset: str) -> str | None:
        """The codec for a declared charset; None when the backend refused it."""
        return self.charsets.get(charset, self.unknown_charset)


@dataclass(frozen=True)
class RoutingRules:
    ignore_case: bool
    trailing_slash: bool


@dataclass(frozen=True)
class BindingProfile:
    name: str
    conversions: tuple[Conversion, ...] = field(repr=False)
    body: BodyRules = field(repr=False)
    routing: RoutingRules


STRICT: Final = BindingProfile(
    "strict",
    (),
    BodyRules(frozenset({"application/json", "text/json", _ANY_JSON}), _CODECS, "utf-8"),
    RoutingRules(ignore_case=False, trailing_slash=False),
)


def build_profile(spec: BindingSpec) -> BindingProfile:
    """The profile ``spec`` declares; ``ValueError`` names the first unknown name."""
    known = PROFILES.get(spec.profile)
    if known is None:
        raise ValueError(f"binding.profile: unknown profile {spec.profile!r} (known: {', '.join(PROFILES)})")
    for key in spec.conversions:
        if key not in known:
            raise ValueError(
                f"binding.conversions: {key!r} is not a conversion of profile {spec.profile!r}"
                f" (known: {', '.join(known)})"
            )
    charsets = [name.lower() for name in spec.charsets]
    for name in [*charsets, *([] if spec.unknown_charset == "refuse" else [spec.unknown_charset.lower()])]:
        if name not in _CODECS:
            raise ValueError(f"binding: unknown charset {name!r} (known: {', '.join(_CODECS)})")
    body = BodyRules(
        frozenset(media_type.lower() for media_type in spec.media_types),
        MappingProxyType({name: _CODECS[name] for name in charsets}),
        None if spec.unknown_charset == "refuse" else _CODECS[spec.unknown_charset.lower()],
    )
    routing = RoutingRules(spec.routing.ignore_case, spec.routing.trailing_slash)
    return BindingProfile(spec.profile, tuple(known[key] for key in spec.conversions), body, routing)
