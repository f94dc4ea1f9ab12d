"""PDT's names, read from ``mappings/pdt/vocabulary.yaml``: one source for every PDT path,
body member and answer key.

The PDT client (``proxy.upstream.pdt``), the mapping compiler (``proxy.mapping.catalog``),
the ledger's pricing and the built-in simulator all take a ``PdtVocabulary`` instead of
spelling PDT's names themselves, so an operator who learns PDT's real contract corrects
a name in the file and every part follows. The file is parsed and checked once
(unknown keys, unsafe path segments, names used twice all stop startup with the file
and the reason); the request path only reads the precomputed attributes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from proxy.config import project_root
from proxy.errors import MappingError
from proxy.yaml_files import load_yaml

__all__ = [
    "VOCABULARY_FILE",
    "ChannelNames",
    "ModuleNames",
    "PdtVocabulary",
    "default_vocabulary",
    "load_vocabulary",
    "parse_vocabulary",
    "vocabulary_in",
]

VOCABULARY_FILE: Final = "vocabulary.yaml"
# Path segments are spliced into URLs and into the simulator's routes: unreserved
# URL characters only, so no name in the file can change a URL's structure.
_SEGMENT = r"[A-Za-z0-9._~-]+"
_ABSOLUTE_PATH = rf"^(/{_SEGMENT})+$"
_RELATIVE_PATH = rf"^{_SEGMENT}(/{_SEGMENT})*$"
_MEMBER = r"^[A-Za-z_$][A-Za-z0-9_$]*$"
_IDENTIFIER = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AuthenticationNames(_Strict):
    path: str = Field(pattern=_ABSOLUTE_PATH)
    username: str = Field(pattern=_MEMBER)
    password: str = Field(pattern=_MEMBER)
    token: str = Field(pattern=_MEMBER)
    lifetime: str = Field(pattern=_MEMBER)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, raw: Any) -> Any:
        # The file groups members by direction (request / answer); callers want names.
        if not isinstance(raw, dict):
            return raw
        flat = {key: value for key, value in raw.items() if key not in ("request", "answer")}
        for group in ("request", "answer"):
            members = raw.get(group)
            if not isinstance(members, dict):
                raise ValueError(f"authentication.{group} must map names to members")
            flat.update(members)
        return flat


class TransactionNames(_Strict):
    path: str = Field(pattern=_ABSOLUTE_PATH)
    all: str = Field(pattern=_RELATIVE_PATH)
    complements: str = Field(pattern=_RELATIVE_PATH)


class PackNames(_Strict):
    path: str = Field(pattern=_ABSOLUTE_PATH)


class ModuleNames(_Strict):
    path: str = Field(pattern=_RELATIVE_PATH)
    pack_key: str = Field(pattern=_MEMBER)
    simulated_as: Literal["score", "rating", "insight"]


class ChannelNames(_Strict):
    path: str = Field(pattern=_RELATIVE_PATH)
    validate_path: str = Field(alias="validate", pattern=_RELATIVE_PATH)
    type: str = Field(min_length=1)
    view_key: str = Field(pattern=_MEMBER)
    module: str = Field(pattern=_IDENTIFIER)
    sends_to: Literal["phone", "email"]


class TokenValidationNames(_Strict):
    value: str = Field(pattern=_MEMBER)


class PdtVocabulary(_Strict):
    authentication: AuthenticationNames
    transaction: TransactionNames
    packs: PackNames
    modules: dict[str, ModuleNames] = Field(min_length=1)
    channels: dict[str, ChannelNames] = Field(min_length=1)
    token_validation: TokenValidationNames

    @model_validator(mode="after")
    def _distinct(self) -> PdtVocabulary:
        for name in (*self.modules, *self.channels):
            _check(_IDENTIFIER, name, "module and channel identifiers")
        paths = [self.authentication.path, self.transaction.path, self.packs.path]
        paths += [self.transaction.all, self.transaction.complements]
        paths += [module.path for module in self.modules.values()]
        paths += [path for c in self.channels.values() for path in (c.path, c.validate_path)]
        for path in paths:
            if {".", ".."} & set(path.split("/")):
                # A dot segment is resolved away by URL normalisation: it would reach another path.
                raise ValueError(f"path {path!r} has a '.' or '..' segment")
        # Under {transaction}/{id}/ every call needs its own path, or two calls collide.
        _unique(
            "paths under a transaction",
            [self.transaction.all, self.transaction.complements]
            + [module.path for module in self.modules.values()]
            + [c.path for c in self.channels.values()]
            + [c.validate_path for c in self.channels.values()],
        )
        # The all-results answer holds the transaction, each module and each channel.
        _unique(
            "all-results keys", ["transaction", *self.modules, *(c.view_key for c in self.channels.values())]
        )
        _unique("pack keys", [module.pack_key for module in self.modules.values()])
        _unique("recorded module names", [*self.modules, *(c.module for c in self.channels.values())])
        _unique("channel types", [c.type for c in self.channels.values()])
        # The simulator keeps one result per generator and one token per destination.
        _unique("modules' simulated_as", [module.simulated_as for module in self.modules.values()])
        _unique("channels' sends_to", [c.sends_to for c in self.channels.values()])
        return self

    @cached_property
    def recorded_modules(self) -> frozenset[str]:
        """Every name the PDT path records in the ledger (packs aside): modules and token sends."""
        return frozenset(self.modules) | frozenset(c.module for c in self.channels.values())

    @cached_property
    def pack_keys(self) -> Mapping[str, str]:
        """A pack answer's (singular) key -> the module's identifier (its all-results key)."""
        return {module.pack_key: name for name, module in self.modules.items()}

    def channel(self, name: str) -> ChannelNames:
        try:
            return self.channels[name]
        except KeyError:
            raise ValueError(f"unknown PDT token channel {name!r}") from None


def _check(pattern: str, value: str, what: str) -> None:
    if not re.fullmatch(pattern, value):
        raise ValueError(f"{what}: {value!r} must match {pattern}")


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} must be distinct: {name!r} is used twice")
        seen.add(name)


def parse_vocabulary(raw: Any, *, source: str) -> PdtVocabulary:
    try:
        return PdtVocabulary.model_validate(raw)
    except ValidationError as exc:
        problem = exc.errors()[0]
        location = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        raise MappingError(source, f"{location}: {problem['msg']}") from None


def load_vocabulary(path: Path) -> PdtVocabulary:
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(str(path), f"cannot read the PDT vocabulary: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise MappingError(str(path), f"not valid YAML: {exc}") from None
    return parse_vocabulary(raw, source=str(path))


def vocabulary_in(mappings_dir: Path) -> PdtVocabulary:
    """The vocabulary of a mappings directory (``<dir>/pdt/vocabulary.yaml``)."""
    return load_vocabulary(mappings_dir / "pdt" / VOCABULARY_FILE)


@lru_cache(maxsize=1)
def default_vocabulary() -> PdtVocabulary:
    """The project's own vocabulary, for callers built without a mappings directory."""
    return vocabulary_in(project_root() / "mappings")
