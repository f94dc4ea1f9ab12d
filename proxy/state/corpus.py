"""The corpus line format (version 1): one recorded legacy exchange per JSON line.

A line is checked against ``mappings/corpus.schema.json`` (draft-07) when read, so
a hand-edited or foreign corpus fails with its file and line number rather than
halfway through a replay. ``entry_to_line`` and ``entry_from_json`` are pure;
``read_corpus`` is the only function here that touches a file.

Here, with the state records, because the store keeps entries as lines: the recorder
(``proxy.recording``) above writes them and the replay tool (``proxy.replay``) reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

import jsonschema
import orjson

from proxy.config import Environment, project_root
from proxy.errors import ConfigError

__all__ = [
    "FORMAT_VERSION",
    "SCHEMA_FILE",
    "CorpusEntry",
    "CorpusError",
    "RecordedBody",
    "default_schema_path",
    "entry_from_json",
    "entry_to_json",
    "entry_to_line",
    "format_time",
    "parse_line",
    "parse_time",
    "read_corpus",
    "schema_problems",
]

FORMAT_VERSION = 1
SCHEMA_FILE = "corpus.schema.json"
Method = Literal["GET", "POST"]


class CorpusError(ConfigError):
    """A corpus line that is not JSON or does not follow the schema; names file and line."""


@dataclass(frozen=True, slots=True)
class RecordedBody:
    """A body as recorded: JSON data, or masked text when it was not JSON."""

    data: Any = None
    text: str | None = None

    def to_bytes(self) -> bytes:
        if self.text is not None:
            return self.text.encode("utf-8")
        return b"" if self.data is None else orjson.dumps(self.data)


@dataclass(frozen=True, slots=True)
class CorpusEntry:
    time: datetime
    environment: Environment
    tenant: str
    product: str
    operation: str
    method: Method
    path: str
    request_body: RecordedBody
    status: int
    response_body: RecordedBody
    request_content_type: str | None = None
    response_content_type: str | None = None
    query: str = ""
    replayable: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)


def format_time(moment: datetime) -> str:
    """UTC, milliseconds, ``Z``: ``2026-11-23T10:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """An ISO-8601 time; a naive one is read as UTC. Raises ValueError."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _headers(content_type: str | None) -> dict[str, str]:
    return {} if content_type is None else {"content-type": content_type}


def _body(body: RecordedBody) -> dict[str, Any]:
    if body.text is not None:
        return {"body": None, "body_text": body.text}
    return {"body": body.data}


def entry_to_json(entry: CorpusEntry) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": entry.method,
        "path": entry.path,
        "headers": _headers(entry.request_content_type),
        **_body(entry.request_body),
    }
    if entry.query:
        request["query"] = entry.query
    line: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "time": format_time(entry.time),
        "environment": entry.environment,
        "tenant": entry.tenant,
        "product": entry.product,
        "operation": entry.operation,
    }
    if not entry.replayable:
        line["replayable"] = False
    line["request"] = request
    line["response"] = {
        "status": entry.status,
        "headers": _headers(entry.response_content_type),
        **_body(entry.response_body),
    }
    return line


def entry_to_line(entry: CorpusEntry) -> bytes:
    """One corpus line, newline included."""
    return orjson.dumps(entry_to_json(entry)) + b"\n"


@cache
def _validator(schema_path: Path) -> jsonschema.Draft7Validator:
    schema = orjson.loads(schema_path.read_bytes())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def default_schema_path() -> Path:
    return project_root() / "mappings" / SCHEMA_FILE


def schema_problems(data: Any, schema_path: Path | None = None) -> list[str]:
    """What makes ``data`` an invalid corpus line (empty when it is valid)."""
    validator = _validator(schema_path or default_schema_path())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(line)"
        problems.append(f"{where}: {error.message}")
    return problems


def _recorded(part: Mapping[str, Any]) -> RecordedBody:
    text = part.get("body_text")
    return RecordedBody(text=text) if isinstance(text, str) else RecordedBody(data=part.get("body"))


def entry_from_json(data: Mapping[str, Any]) -> CorpusEntry:
    """A line already checked against the schema, as an entry."""
    request = data["request"]
    response = data["response"]
    return CorpusEntry(
        time=parse_time(data["time"]),
        environment=cast(Environment, data["environment"]),
        tenant=data["tenant"],
        product=data["product"],
        operation=data["operation"],
        method=cast(Method, request["method"]),
        path=request["path"],
        request_body=_recorded(request),
        status=int(response["status"]),
        response_body=_recorded(response),
        request_content_type=request["headers"].get("content-type"),
        response_content_type=response["headers"].get("content-type"),
        query=request.get("query", ""),
        replayable=bool(data.get("replayable", True)),
    )


def parse_line(line: bytes, *, source: str, number: int, schema_path: Path | None = None) -> CorpusEntry:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise CorpusError(f"{source}:{number}: not JSON: {exc}") from None
    problems = schema_problems(data, schema_path)
    if problems:
        raise CorpusError(f"{source}:{number}: not a corpus line: {'; '.join(problems[:3])}")
    return entry_from_json(data)


def read_corpus(path: Path, *, schema_path: Path | None = None) -> Iterator[CorpusEntry]:
    """Every entry of a JSON Lines corpus, in file order; blank lines are skipped.

    Raises CorpusError (a ConfigError: the CLI exits 1 naming file and line).
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield parse_line(line, source=str(path), number=number, schema_path=schema_path)
