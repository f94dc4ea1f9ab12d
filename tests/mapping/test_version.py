"""proxy.mapping.version: one digest for the whole mappings folder."""

from __future__ import annotations

from pathlib import Path

from proxy.config import project_root
from proxy.mapping.version import fingerprint, mapping_version


def test_the_digest_follows_content_and_names_not_order() -> None:
    one = fingerprint([("a.yaml", b"x: 1"), ("b.csv", b"c")])
    assert one == fingerprint([("b.csv", b"c"), ("a.yaml", b"x: 1")])
    assert one != fingerprint([("a.yaml", b"x: 2"), ("b.csv", b"c")])
    assert one != fingerprint([("c.yaml", b"x: 1"), ("b.csv", b"c")])
    assert len(one) == 12


def test_a_folder_changes_version_when_a_file_changes(tmp_path: Path) -> None:
    (tmp_path / "ffr").mkdir()
    (tmp_path / "ffr" / "codes.csv").write_text("a,b\n", encoding="utf-8")
    before = mapping_version(tmp_path)
    (tmp_path / "ffr" / "codes.csv").write_text("a,c\n", encoding="utf-8")
    assert mapping_version(tmp_path) != before
    assert len(mapping_version(project_root() / "mappings")) == 12
