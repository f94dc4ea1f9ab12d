"""The ``record`` and ``replay`` subcommands of ``pdt-proxy`` (wired in ``proxy.cli``).

Light at import (the parser is built for every command); the replay machinery is
imported when a command runs.

Exit status of ``replay``: 0 when the replay passes, 3 when it fails its thresholds
(mismatch rate, thin comparisons, nothing replayed); 1 and 2 keep their CLI-wide
meaning (invalid configuration, corpus or mapping; bad usage).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from proxy.cli_commands import SubCommands

if TYPE_CHECKING:
    from proxy.config import Settings

__all__ = ["EXIT_FAILED", "Progress", "add_record_parser", "add_replay_parser", "record", "replay"]

EXIT_FAILED = 3
USERNAME_ENV = "PDT_PROXY_REPLAY_USERNAME"
PASSWORD_ENV = "PDT_PROXY_REPLAY_PASSWORD"  # noqa: S105 (a variable name)


class Progress:
    """``replayed 120/4000 (3%)`` on stderr: rewritten in place on a terminal, else one
    line per tenth of the run, so CI logs stay short."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if self._tty:
            end = "\n" if done == total else ""
            self._stream.write(f"\rreplayed {done}/{total} ({percent}%){end}")
            self._stream.flush()
        elif percent // 10 != self._last_tenth or done == total:
            self._last_tenth = percent // 10
            self._stream.write(f"replayed {done}/{total} ({percent}%)\n")


def replay(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    import orjson

    from proxy.replay.html import render_html
    from proxy.replay.report import render_text, report_to_json
    from proxy.replay.session import ReplayOptions, run_replay

    if args.mappings:
        settings = settings.model_copy(update={"mappings_dir": Path(args.mappings)})
    options = ReplayOptions(
        target=args.target,
        max_mismatch_rate=args.max_mismatch_rate,
        min_compared=args.min_compared,
        tenant=args.tenant,
        username=args.username or os.environ.get(USERNAME_ENV),
        password=args.password or os.environ.get(PASSWORD_ENV),
    )
    progress = None if args.quiet else Progress(sys.stderr)
    report = asyncio.run(run_replay(Path(args.corpus), settings, options, progress=progress))
    sys.stdout.write(render_text(report))
    if args.json:
        Path(args.json).write_bytes(orjson.dumps(report_to_json(report), option=orjson.OPT_INDENT_2))
    if args.html:
        Path(args.html).write_text(render_html(report, locale=args.lang), encoding="utf-8")
    return 0 if report.passed else EXIT_FAILED


def _time(text: str | None, option: str) -> datetime | None:
    from proxy.state.corpus import parse_time

    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise SystemExit(f"pdt-proxy: {option}: not an ISO-8601 time: {text!r}") from None


def export(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from proxy.replay.export import export_corpus, export_recorded
    from proxy.state.factory import build_state_store

    since, until = _time(args.since, "--since"), _time(args.until, "--until")
    out = Path(args.out)
    if args.directory:
        # Corpus files alone: a corpus recorded by an earlier release, or copied from elsewhere.
        count = export_corpus(Path(args.directory), out, tenant=args.tenant, since=since, until=until)
    else:

        async def from_database() -> int:
            # The database every worker and replica records into (SQLite's WAL lets this
            # read beside running workers; PostgreSQL is shared anyway).
            store = build_state_store(settings)
            await store.open()
            try:
                return await export_recorded(
                    store,
                    out,
                    tenant=args.tenant,
                    since=since,
                    until=until,
                    earlier_files=settings.data_dir / settings.recorder.directory,
                )
            finally:
                await store.close()

        count = asyncio.run(from_database())
    print(f"{args.out}: {count} exchanges of tenant {args.tenant}")
    return 0


def sample(args: argparse.Namespace, settings: Settings) -> int:
    from proxy.replay.sample import write_sample_corpus

    mappings = Path(args.mappings) if args.mappings else settings.mappings_dir
    count = write_sample_corpus(Path(args.out), mappings_dir=mappings, people=args.people)
    print(f"{args.out}: {count} exchanges from the legacy simulator (no disagreement)")
    return 0


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a share between 0 and 1")
    return value


def add_replay_parser(commands: SubCommands) -> argparse.ArgumentParser:
    parser = commands.add("replay", help="replay a recorded corpus through the PDT path and compare")
    parser.add_argument("corpus", help="JSON Lines corpus (docs/replay.md)")
    parser.add_argument(
        "--target", default="simulator", help="'simulator' (default, in process) or a proxy URL"
    )
    parser.add_argument(
        "--max-mismatch-rate", type=_rate, default=0.0, help="default 0: every exchange agrees"
    )
    parser.add_argument(
        "--min-compared", type=int, help="least fields per comparison (raises compare.yaml's)"
    )
    parser.add_argument("--tenant", help="replay only this tenant's exchanges")
    parser.add_argument("--username", help=f"URL target: the tenant's legacy username (or ${USERNAME_ENV})")
    parser.add_argument("--password", help=f"URL target: its password (or ${PASSWORD_ENV})")
    parser.add_argument("--mappings", help="mappings directory (default: from settings)")
    parser.add_argument("--json", help="write the full report as JSON to FILE")
    parser.add_argument("--html", help="write a self-contained HTML report to FILE")
    parser.add_argument(
        "--lang", choices=["pt_BR", "en"], default="en", help="the HTML report's language (default en)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return parser


def add_record_parser(commands: SubCommands) -> argparse.ArgumentParser:
    parser = commands.add("record", help="the recorded corpus: export, sample")
    record = SubCommands(parser, "record_command")
    exporter = record.add("export", help="one tenant's recorded exchanges as one corpus file")
    exporter.add_argument("--tenant", required=True)
    exporter.add_argument("--out", required=True)
    exporter.add_argument("--since", help="ISO-8601 time, inclusive (naive = UTC)")
    exporter.add_argument("--until", help="ISO-8601 time, exclusive")
    exporter.add_argument(
        "--directory",
        help="read corpus files in this directory instead of the database "
        "(default: the database, plus files an earlier release left in DATA_DIR/corpus)",
    )
    exporter.set_defaults(record_run="export")
    sampler = record.add("sample", help="write the sample corpus from the legacy simulator")
    sampler.add_argument("--out", default="tests/replay/corpus/sample.jsonl")
    sampler.add_argument("--people", type=int, default=12)
    sampler.add_argument("--mappings")
    sampler.set_defaults(record_run="sample")
    return parser


def record(args: argparse.Namespace, settings: Settings) -> int:
    if args.record_run == "export":
        return export(args, settings)
    return sample(args, settings)
