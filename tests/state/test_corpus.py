"""proxy.state.corpus: the line format round-trips and the schema refuses what is not a line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from proxy.state.corpus import (
    CorpusError,
    RecordedBody,
    entry_from_json,
    entry_to_json,
    entry_to_line,
    format_time,
    parse_time,
    read_corpus,
    schema_problems,
)
from tests.recording.support import MOMENT, SAMPLE, entry

ENTRIES = [
    entry(),
    entry(query="a=1", replayable=False),
    entry(method="GET", path="/v1/mobiletrust/transaction/L-1", request_body=RecordedBody(),
          request_content_type=None, operation="mobiletrust.transaction.get"),
    entry(request_body=RecordedBody(text="not json ***"), status=415,
          response_body=RecordedBody(text="oops")),
    entry(environment="hml", path="/api/v1/mobiletrust/transaction"),
]  # fmt: skip


@pytest.mark.parametrize("item", ENTRIES)
def test_an_entry_round_trips_through_a_valid_line(item: Any) -> None:
    data = orjson.loads(entry_to_line(item))
    assert schema_problems(data) == []
    assert entry_from_json(data) == item


def _line(**changes: Any) -> dict[str, Any]:
    data = entry_to_json(entry())
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for part in parents:
            node = node[part]
        node[last] = value
    return data


INVALID = [
    ("format", _line(format=2)),
    ("time", _line(time="2026-11-23 10:00")),
    ("environment", _line(environment="dev")),
    ("request/headers", _line(request__headers={"authorization": "Bearer x"})),
    ("request/headers", _line(request__headers={"cookie": "a=b"})),
    ("request/method", _line(request__method="DELETE")),
    ("response/status", _line(response__status=99)),
    ("(line)", {k: v for k, v in _line().items() if k != "tenant"}),
    ("(line)", _line(password="x")),
]


@pytest.mark.parametrize(("where", "data"), INVALID)
def test_the_schema_refuses_what_is_not_a_corpus_line(where: str, data: Any) -> None:
    problems = schema_problems(data)
    assert problems
    assert any(problem.startswith(where) for problem in problems), problems


def test_reading_names_the_file_and_line_of_a_bad_line(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(entry_to_line(entry()) + b"\n" + b'{"format": 1}\n')
    with pytest.raises(CorpusError, match=r"c\.jsonl:3: not a corpus line"):
        list(read_corpus(corpus))
    corpus.write_bytes(b"{nope\n")
    with pytest.raises(CorpusError, match=r"c\.jsonl:1: not JSON"):
        list(read_corpus(corpus))
    with pytest.raises(CorpusError, match="cannot read"):
        list(read_corpus(tmp_path / "missing.jsonl"))


def test_the_sample_corpus_is_valid_and_covers_the_three_products() -> None:
    entries = list(read_corpus(SAMPLE))
    assert len(entries) >= 36
    assert {item.product for item in entries} == {"datatrust-v1", "ffr", "mobile-trust"}


TIMES = [
    ("2026-11-23T10:00:00Z", MOMENT),
    ("2026-11-23T10:00:00", MOMENT),
    ("2026-11-23T07:00:00-03:00", MOMENT),
]


@pytest.mark.parametrize(("text", "moment"), TIMES)
def test_times_are_read_as_utc(text: str, moment: Any) -> None:
    assert parse_time(text) == moment
    assert format_time(parse_time(text)) == "2026-11-23T10:00:00.000Z"
