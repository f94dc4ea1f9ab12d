"""Field paths used by mapping rules: ``Phone.AreaCode``, ``scores[-1].value``.

A path is parsed once, when a mapping file is compiled, into a tuple of steps (a
``str`` for an object key, an ``int`` for a list index) and turned into a getter
or setter closure. Nothing is parsed per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

__all__ = ["MISSING", "Path", "Step", "compile_getter", "compile_setter", "format_path", "parse_path"]

Step = str | int
Path = tuple[Step, ...]


class _Missing:
    """Marks an absent value, distinct from JSON ``null``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()

_STEP = re.compile(r"([A-Za-z_$][A-Za-z0-9_$-]*)|\[(-?\d+)\]")


def parse_path(text: str) -> Path:
    """``"scores[-1].value"`` → ``("scores", -1, "value")``; raises ValueError if malformed."""
    steps: list[Step] = []
    position = 0
    while position < len(text):
        if steps and text[position] != "[":
            # After the first step a key needs its dot: ``a[0].b``, never ``a[0]b``.
            if text[position] != "." or position + 1 == len(text) or text[position + 1] == "[":
                raise ValueError(f"malformed path {text!r} at character {position}")
            position += 1
        match = _STEP.match(text, position)
        if match is None:
            raise ValueError(f"malformed path {text!r} at character {position}")
        key, index = match.groups()
        steps.append(key if key is not None else int(index))
        position = match.end()
    if not steps:
        raise ValueError("empty path")
    return tuple(steps)


def format_path(path: Path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def compile_getter(path: Path) -> Callable[[Any], Any]:
    """A function returning the value at ``path`` or ``MISSING`` when any step is absent."""

    def get(value: Any) -> Any:
        for step in path:
            if isinstance(step, int):
                if not isinstance(value, list) or not -len(value) <= step < len(value):
                    return MISSING
                value = value[step]
            else:
                if not isinstance(value, dict):
                    return MISSING
                value = value.get(step, MISSING)
                if value is MISSING:
                    return MISSING
        return value

    if len(path) == 1 and isinstance(path[0], str):
        # The common case, kept to one dict lookup.
        key = path[0]

        def get_key(value: Any) -> Any:
            return value.get(key, MISSING) if isinstance(value, dict) else MISSING

        return get_key
    return get


def compile_setter(path: Path) -> Callable[[dict[str, Any], Any], None]:
    """A function writing a value at ``path``, creating intermediate objects.

    Target paths are object keys only: list outputs are built by ``each`` rules.
    """
    if any(isinstance(step, int) for step in path):
        raise ValueError(f"target path {format_path(path)!r} may not index into a list")
    keys: tuple[str, ...] = tuple(str(step) for step in path)
    *parents, last = keys

    def set_value(target: dict[str, Any], value: Any) -> None:
        node = target
        for key in parents:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {}
                node[key] = child
            node = child
        node[last] = value

    return set_value
