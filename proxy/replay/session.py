"""One replay run, end to end: read the corpus, pick the target, replay, sum up.

This is the only module of the replayer that opens things (the corpus file, the
target); the CLI, the pytest entry point and tests all come through ``run_replay``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from proxy.comparison.rules import load_compare_rules
from proxy.config import SIMULATOR, Settings
from proxy.errors import ConfigError
from proxy.mapping.catalog import load_catalog
from proxy.replay.replayer import Progress, replay_entries
from proxy.replay.report import ReplayReport, summarise
from proxy.replay.targets import HttpTarget, ReplayTarget, SimulatorTarget
from proxy.state.corpus import CorpusEntry, read_corpus

__all__ = ["ReplayOptions", "load_entries", "run_replay"]


@dataclass(frozen=True)
class ReplayOptions:
    # ``simulator`` (in process, built-in PDT simulator) or the URL of a running proxy.
    target: str = SIMULATOR
    # Share of replayed exchanges allowed to mismatch; 0 = every one must agree.
    max_mismatch_rate: float = 0.0
    # Raises every operation's declared least number of compared fields.
    min_compared: int | None = None
    # Only this tenant's exchanges.
    tenant: str | None = None
    # The tenant's legacy login on a URL target.
    username: str | None = None
    password: str | None = None


def load_entries(corpus: Path, tenant: str | None = None) -> list[CorpusEntry]:
    return [entry for entry in read_corpus(corpus) if tenant is None or entry.tenant == tenant]


def _target(
    options: ReplayOptions, settings: Settings, transport: httpx.AsyncBaseTransport | None
) -> ReplayTarget:
    if options.target == SIMULATOR:
        return SimulatorTarget.start(settings)
    if not options.target.startswith(("http://", "https://")):
        raise ConfigError(f"--target must be 'simulator' or an http(s) URL, not {options.target!r}")
    if not options.username or not options.password:
        raise ConfigError("a URL target needs the tenant's legacy username and password")
    return HttpTarget(
        options.target,
        username=options.username,
        password=options.password,
        timeouts=settings.pdt.timeouts.model_copy(update={"read_s": settings.pdt.request_deadline_s}),
        deadline_s=settings.pdt.request_deadline_s,
        transport=transport,
    )


async def run_replay(
    corpus: Path,
    settings: Settings,
    options: ReplayOptions = ReplayOptions(),
    *,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ReplayReport:
    """Replay ``corpus`` with the mappings and compare rules under ``settings.mappings_dir``.

    Raises ConfigError (a broken corpus line, mapping or target option).
    """
    catalog = load_catalog(settings.mappings_dir)
    rules = load_compare_rules(catalog)
    entries = load_entries(corpus, options.tenant)
    target = _target(options, settings, transport)
    try:
        outcomes = await replay_entries(
            entries, target, catalog, rules, min_compared=options.min_compared, progress=progress
        )
    finally:
        await target.aclose()
    return summarise(
        outcomes,
        corpus=str(corpus),
        target=options.target,
        max_mismatch_rate=options.max_mismatch_rate,
        min_compared=options.min_compared,
    )
