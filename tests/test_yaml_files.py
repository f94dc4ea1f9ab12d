from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from proxy.yaml_files import load_yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "path",
    sorted(p for pattern in ("mappings/**/*.yaml", "config/*.yaml") for p in ROOT.glob(pattern)),
    ids=lambda path: str(path.relative_to(ROOT)),
)
def test_every_shipped_file_loads_as_the_safe_python_loader_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: [x, 'y']\n", {"a": 1, "b": ["x", "y"]}),
        ("when: 2026-12-03\n", {"when": yaml.safe_load("d: 2026-12-03")["d"]}),
        ("on: yes\n", {True: True}),
        ("", None),
    ],
)
def test_scalars_resolve_as_yaml_1_1_safe_loading_does(text: str, expected: object) -> None:
    assert load_yaml(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object/apply:os.system ['true']\n",
        "a: !!python/name:os.system\n",
        "items: [1, 2\n",
        "a: b: c\n",
    ],
)
def test_unsafe_tags_and_broken_documents_are_yaml_errors(text: str) -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml(text)
