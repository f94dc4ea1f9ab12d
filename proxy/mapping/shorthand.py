"""The short forms of a rule list, expanded into full rules before the models parse them.

Pure functions over the parsed YAML (dicts and lists); the compiler and the rule
model never see a short form. Three forms, each documented with an example in
mappings/README.md:

- **id default**: a rule without ``id`` is named by its target path, nested
  rules by the full path (``ratings[].value``, ``address.zipCode``);
- **flat table**: ``{flat: {target: source, ...}}``, one row per one-to-one
  field, a row being a source path, ``[source, transform]`` or a mapping of
  rule keys (``from``, ``transform``, ``default``, ``id``...);
- **group**: ``{group: {..., sections: [...]}}``, several ``each`` lists that
  differ only by the value of one key (``by``) and their ``limit``.

A malformed short form is a ``ValueError`` naming the rule (or target) at fault;
pydantic reports it under the file, as any other schema problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["expand_operation", "expand_rules", "operation_view"]

# What a section of a group may set; everything else is shared by the group.
_SECTION_KEYS = frozenset({"to", "id", "description", "equals", "in", "limit"})
# Group keys that belong to the list (``each``), not to the rule holding it.
_EACH_KEYS = frozenset({"by", "order_by", "limit", "fields", "sections"})


def expand_rules(raw: Any, *, prefix: str = "") -> Any:
    """``raw`` (a rule list as parsed) with every short form written out.

    ``prefix`` is the target path of the enclosing rule (``ratings[].``) so that a
    nested rule's default id is its full target path. Anything that is not a list
    is returned as is, for the model to refuse with its own message.
    """
    if not isinstance(raw, list):
        return raw
    expanded: list[Any] = []
    for entry in raw:
        for rule in _entries(entry):
            expanded.append(_complete(rule, prefix))
    return expanded


def expand_operation(raw: Any) -> Any:
    """An operation document with its request and response rule lists expanded."""
    if not isinstance(raw, Mapping):
        return raw
    document = dict(raw)
    for side in ("request", "response"):
        part = document.get(side)
        if isinstance(part, Mapping) and "rules" in part:
            document[side] = {**part, "rules": expand_rules(part["rules"])}
    return document


def operation_view(raw: Any) -> Any:
    """``expand_operation`` for error reporting: the raw document if it cannot expand.

    A validation error's location indexes the expanded rule list; the loader looks
    the rule up in this view so that it names the rule the location points to.
    """
    try:
        return expand_operation(raw)
    except ValueError:
        return raw


def _entries(entry: Any) -> list[Any]:
    if isinstance(entry, Mapping) and set(entry) == {"flat"}:
        return _flat(entry["flat"])
    if isinstance(entry, Mapping) and set(entry) == {"group"}:
        return _group(entry["group"])
    return [entry]


def _flat(table: Any) -> list[dict[str, Any]]:
    if not isinstance(table, Mapping) or not table:
        raise ValueError("'flat' takes a non-empty mapping of target: source rows")
    return [_row(str(target), row) for target, row in table.items()]


def _row(target: str, row: Any) -> dict[str, Any]:
    if isinstance(row, str):
        return {"to": target, "from": row}
    if isinstance(row, list) and len(row) == 2 and isinstance(row[0], str):
        return {"to": target, "from": row[0], "transform": row[1]}
    if isinstance(row, Mapping):
        if "to" in row:
            raise ValueError(f"flat row {target!r}: the key is the target, so 'to' is not allowed")
        return {"to": target, **row}
    raise ValueError(
        f"flat row {target!r}: a row is a source path, [source, transform] or a mapping of rule keys"
    )


def _group(group: Any) -> list[dict[str, Any]]:
    if not isinstance(group, Mapping):
        raise ValueError("'group' takes a mapping")
    sections = group.get("sections")
    if not isinstance(sections, list) or not sections:
        raise ValueError("'group' needs a non-empty 'sections' list")
    by = group.get("by")
    if not isinstance(by, Mapping):
        raise ValueError("'group' needs 'by': the value ({from, transform}) each section is chosen by")
    if "fields" not in group:
        raise ValueError("'group' needs 'fields': the rules of one list item")
    shared = {key: value for key, value in group.items() if key not in _EACH_KEYS}
    return [_section(section, group, by, shared) for section in sections]


def _section(section: Any, group: Mapping[str, Any], by: Mapping[str, Any], shared: dict[str, Any]) -> Any:
    if not isinstance(section, Mapping) or "to" not in section:
        raise ValueError("a group section is a mapping with 'to'")
    unknown = set(section) - _SECTION_KEYS
    if unknown:
        raise ValueError(f"group section {section['to']!r}: unknown keys {sorted(unknown)}")
    test = {key: section[key] for key in ("equals", "in") if key in section}
    each: dict[str, Any] = {"where": {**by, **test}}
    if "order_by" in group:
        each["order_by"] = group["order_by"]
    limit = section.get("limit", group.get("limit"))
    if limit is not None:
        each["limit"] = limit
    each["fields"] = group["fields"]
    own = {key: section[key] for key in ("to", "id", "description") if key in section}
    return {**shared, **own, "each": each}


def _complete(rule: Any, prefix: str) -> Any:
    """A full rule: its id defaulted, its nested item rules expanded."""
    if not isinstance(rule, Mapping) or not isinstance(rule.get("to"), str):
        return rule
    target = rule["to"]
    completed = dict(rule)
    completed.setdefault("id", prefix + target)
    for key, joint in (("each", "[]."), ("pick", ".")):
        nested = completed.get(key)
        if isinstance(nested, Mapping) and "fields" in nested:
            fields = expand_rules(nested["fields"], prefix=f"{prefix}{target}{joint}")
            completed[key] = {**nested, "fields": fields}
    return completed
