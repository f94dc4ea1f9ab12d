"""``pdt-proxy``: one command line for serving, checking mappings and simulating PDT.

    pdt-proxy serve [--config FILE] [--host H] [--port N] [--workers N] [--watch]
    pdt-proxy migrate                  (applies pending database migrations; exit 0 when at the latest)
    pdt-proxy lint [--mappings DIR]
    pdt-proxy import-table CSV --product P --table T [--column NAME=TITLE ...]
    pdt-proxy simulate pdt [--port N] [--latency-ms X] [--fault-rate R]
    pdt-proxy simulate legacy [--port N] [--disagreement-rate X] [--latency-ms X] [--fault-rate R]
    pdt-proxy hash-password            (reads the password from standard input)
    pdt-proxy ledger export --month YYYY-MM [--tenant T] [--out FILE] [--format json|csv]
    pdt-proxy migration status [--json]
    pdt-proxy backtest TENANT [--from ISO] [--to ISO] [--days N] [--product P] [--json FILE]
                       [--html FILE [--internal] [--lang pt_BR|en]]   (the bank's copy unless --internal)
    pdt-proxy replay CORPUS [--target simulator|URL] [--max-mismatch-rate X] [--min-compared N]
                     [--tenant T] [--html FILE] [--json FILE]   (exit 3 when the replay fails)
    pdt-proxy record export --tenant T --out FILE [--since ISO] [--until ISO]
    pdt-proxy record sample [--out FILE]

``--config FILE`` goes before or after the command (``pdt-proxy --config F serve``
and ``pdt-proxy serve --config F`` are the same); ``--version`` prints the release.

Exit status:

    0  success
    1  a configuration, mapping or database is unusable (the message names the
       file, the rule and the reason)
    2  bad usage: an unknown option or command, an unknown tenant, a bad window
    3  a verdict failed: ``replay`` over its mismatch threshold, ``backtest`` not
       ready for cut-over
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proxy.cli_commands import CONFIG_HELP, SubCommands
from proxy.config import Settings, load_settings
from proxy.errors import ConfigError

if TYPE_CHECKING:
    from proxy.edge.root import ProxyApp

__all__ = ["EXIT_FAILED_VERDICT", "EXIT_USAGE", "main"]

EXIT_USAGE = 2
EXIT_FAILED_VERDICT = 3


class UsageError(Exception):
    """A request the command cannot make sense of: exit 2 with this message."""


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(Path(args.config) if getattr(args, "config", None) else None)


def _serve(args: argparse.Namespace) -> int:
    from proxy.composition import create_app
    from proxy.observability.logging import configure_logging

    if args.config:
        # Workers are separate processes: they find the configuration here.
        os.environ["PROXY_CONFIG"] = str(Path(args.config).resolve())
    settings = _settings(args)
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers
    if args.admin_port:
        if args.admin_port == port:
            raise UsageError("--admin-port must differ from the public port")
        # Into the settings (and the environment, for the workers' own settings).
        os.environ["PROXY_ADMIN_PORT"] = str(args.admin_port)
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"admin_port": args.admin_port})}
        )
    watch = args.watch or os.environ.get("PROXY_WATCH", "").lower() in ("1", "true", "yes")
    if watch and workers > 1:
        raise UsageError("--watch reloads one process; with --workers N use SIGHUP or POST /admin/reload")
    configure_logging(settings.logging)
    # Once, before any worker: migrate (auto_migrate) or check the schema, so a
    # schema this release cannot serve on stops here with one clear line.
    _prepare_database(settings)
    drain_s = settings.server.graceful_shutdown_s
    admin_port = settings.server.admin_port
    if workers > 1:
        _run_workers(
            "proxy.composition:create_app_from_environment",
            host,
            port,
            workers=workers,
            drain_s=drain_s,
            admin_port=admin_port,
        )
    else:
        # Built here, before listening, so a broken mapping stops the process at once.
        app = create_app(settings)
        with _live_reload(app, settings, watch=watch):
            _run_uvicorn(app, host, port, drain_s=drain_s, admin_port=admin_port)
    return 0


@contextmanager
def _live_reload(app: ProxyApp, settings: Settings, *, watch: bool) -> Iterator[None]:
    """SIGHUP (and, with ``--watch``, a changed file) reloads the set of a single process.

    uvicorn's server handles SIGINT and SIGTERM only, so SIGHUP would end the
    process. Under ``--workers N`` uvicorn's supervisor answers SIGHUP itself with a
    rolling restart (each new worker reads the files, and serves before the old
    one leaves; one that fails to start keeps the old one in service).
    """
    import signal

    from proxy.live.watch import FileWatcher, watched_paths

    reloader = app.runtime.reloader
    assert reloader is not None, "the composition root gives every runtime its reloader"
    previous = signal.signal(
        signal.SIGHUP, lambda signum, frame: reloader.request_reload(actor="signal", trigger="signal")
    )
    watcher = None
    if watch:
        watcher = FileWatcher(
            watched_paths(settings), lambda: reloader.request_reload(actor="watch", trigger="watch")
        )
        watcher.start()
    try:
        yield
    finally:
        if watcher is not None:
            watcher.stop()
        signal.signal(signal.SIGHUP, previous)


def _database_step(settings: Settings, *, always_migrate: bool) -> str:
    """Migrate (or check) the proxy's database; a ConfigError naming the reason on failure."""
    import asyncio
    import sqlite3

    import psycopg
    import psycopg_pool

    from proxy.db.migrate import migrate_database, prepare_database

    step = migrate_database if always_migrate else prepare_database
    try:
        return asyncio.run(step(settings)).describe()
    except (psycopg.Error, psycopg_pool.PoolTimeout, sqlite3.Error, OSError) as error:
        # The class and the driver's text (host, port, reason), never the DSN's password.
        raise ConfigError(
            f"the proxy's database cannot be migrated: {type(error).__name__}: {error}"
        ) from None


def _prepare_database(settings: Settings) -> None:
    from proxy.observability.logging import get_logger

    get_logger(__name__).info("database ready", detail=_database_step(settings, always_migrate=False))


def _migrate(args: argparse.Namespace) -> int:
    print(_database_step(_settings(args), always_migrate=True))
    return 0


def _migration_status(args: argparse.Namespace) -> int:
    import asyncio

    from proxy.autopilot.status import read_estate, render_status

    view = asyncio.run(read_estate(_settings(args)))
    if args.json:
        import orjson

        sys.stdout.buffer.write(orjson.dumps(view.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(render_status(view))
    return 0


def _uvicorn_options(drain_s: int) -> dict[str, Any]:
    return {
        # uvloop + httptools: the h11 parser is ~4x slower.
        "loop": "uvloop",
        "http": "httptools",
        # uvicorn's access log prints raw paths and query strings, which may carry
        # personal data; the proxy writes its own masked access line instead.
        "access_log": False,
        "log_config": None,
        # SIGTERM: stop accepting, let in-flight legacy requests finish (a request's
        # deadline is 8 s by default), then the lifespan flushes the ledger and drains
        # the shadow and recorder queues (proxy.runtime.Runtime.aclose).
        "timeout_graceful_shutdown": drain_s,
    }


def _listening_sockets(config: Any, admin_port: int | None) -> list[Any]:
    """The public socket, and the admin one when ``server.admin_port`` is set (same host)."""
    import uvicorn

    sockets = [config.bind_socket()]
    if admin_port is not None:
        admin = uvicorn.Config(config.app, host=config.host, port=admin_port)
        sockets.append(admin.bind_socket())
    return sockets


def _run_uvicorn(app: Any, host: str, port: int, *, drain_s: int = 10, admin_port: int | None = None) -> None:
    import uvicorn

    if admin_port is None:
        uvicorn.run(app, host=host, port=port, **_uvicorn_options(drain_s))
        return
    # One server, two listeners: the app tells them apart by the local port
    # (proxy/edge/listeners.py).
    config = uvicorn.Config(app, host=host, port=port, **_uvicorn_options(drain_s))
    sockets = _listening_sockets(config, admin_port)
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()


def _run_workers(
    factory: str, host: str, port: int, *, workers: int, drain_s: int, admin_port: int | None = None
) -> None:
    import uvicorn

    from proxy.observability.multiprocess import private_directory
    from proxy.workers import run_workers

    # The directory is named in the environment before uvicorn spawns a worker, so each
    # worker's prometheus-client starts in multiprocess mode (see that module).
    with private_directory() as metrics_dir:
        config = uvicorn.Config(
            factory, host=host, port=port, workers=workers, factory=True, **_uvicorn_options(drain_s)
        )
        run_workers(config, metrics_dir, _listening_sockets(config, admin_port))


def _lint(args: argparse.Namespace) -> int:
    from proxy.comparison.rules import load_compare_rules
    from proxy.mapping.catalog import load_catalog
    from proxy.mapping.lint import coverage_report, format_report

    directory = Path(args.mappings) if args.mappings else _settings(args).mappings_dir
    catalog = load_catalog(directory)
    # The shadow and replay comparison rules are mappings too: startup refuses a broken file.
    rules = load_compare_rules(catalog)
    print(format_report(catalog, coverage_report(catalog)))
    print(f"compare.yaml: rules for {len(rules.operations)} operations: OK")
    return 0


def _import_table(args: argparse.Namespace) -> int:
    from proxy.mapping.importer import import_table

    renames: dict[str, str] = {}
    for item in args.column or ():
        name, separator, title = item.partition("=")
        if not separator:
            raise SystemExit(f"--column takes NAME=TITLE, not {item!r}")
        renames[name] = title
    directory = Path(args.mappings) if args.mappings else _settings(args).mappings_dir
    result = import_table(
        Path(args.csv), mappings_dir=directory, product=args.product, table=args.table, renames=renames
    )
    print(
        f"{result.table_file}: {result.rows} rows "
        f"({result.added} added, {result.removed} removed, {result.changed} changed); mappings still valid"
    )
    return 0


def _simulate(args: argparse.Namespace) -> int:
    if args.target == "legacy":
        return _simulate_legacy(args)
    from proxy.config import SimulatorSettings
    from proxy.simulators.pdt import create_pdt_simulator
    from proxy.tenants import demo_tenants_file, load_tenants

    settings = _settings(args)
    simulator_settings = SimulatorSettings(
        latency_ms=args.latency_ms, latency_jitter_ms=args.jitter_ms, fault_rate=args.fault_rate
    )
    tenants = load_tenants(
        settings.tenants_file or demo_tenants_file(),
        known_products=frozenset({"datatrust-v1", "ffr", "mobile-trust"}),
        simulator_only=True,
    )
    accounts = {
        credential.username: credential.password
        for tenant in tenants.tenants.values()
        for credential in tenant.credentials.values()
    }
    app = create_pdt_simulator(
        simulator_settings, catalogue_path=settings.mappings_dir / "pdt" / "insights.csv", accounts=accounts
    )
    _run_uvicorn(app, args.host, args.port)
    return 0


def _simulate_legacy(args: argparse.Namespace) -> int:
    from proxy.mapping.catalog import load_catalog
    from proxy.simulators.legacy import (
        LegacySimulatorSettings,
        accounts_from_tenants,
        create_legacy_simulator,
    )
    from proxy.tenants import demo_tenants_file, load_tenants

    settings = _settings(args)
    options = {
        "latency_ms": args.latency_ms,
        "latency_jitter_ms": args.jitter_ms,
        "fault_rate": args.fault_rate,
    }
    if args.disagreement_rate is not None:
        options["disagreement_rate"] = args.disagreement_rate
    try:
        legacy_settings = LegacySimulatorSettings.model_validate(options)
    except ValueError as error:
        raise SystemExit(f"pdt-proxy: simulate legacy: {error}") from None
    tenants = load_tenants(
        settings.tenants_file or demo_tenants_file(),
        known_products=frozenset({"datatrust-v1", "ffr", "mobile-trust"}),
        simulator_only=True,
    )
    accounts, grants = accounts_from_tenants(tenants)
    app = create_legacy_simulator(
        legacy_settings, catalog=load_catalog(settings.mappings_dir), accounts=accounts, grants=grants
    )
    _run_uvicorn(app, args.host, args.port)
    return 0


def _hash_password(args: argparse.Namespace) -> int:
    from proxy.tenants import hash_password

    password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass("Password: ")
    if not password:
        raise SystemExit("empty password")
    print(hash_password(password))
    return 0


def _ledger_export(args: argparse.Namespace) -> int:
    import asyncio

    from proxy.cli_progress import working
    from proxy.ledger.export import Format, bill_for, render
    from proxy.ledger.factory import build_store, load_settings_pricing
    from proxy.ledger.month import Month

    try:
        month = Month.parse(args.month)
    except ValueError as error:
        raise SystemExit(f"pdt-proxy: --month: {error}") from None
    output_format: Format = "json"
    if args.format == "csv" or (not args.format and args.out and args.out.lower().endswith(".csv")):
        output_format = "csv"
    settings = _settings(args)
    pricing = load_settings_pricing(settings)

    async def export() -> bytes:
        # The store the serving proxy writes (same settings): SQLite's WAL lets this
        # read beside running workers; PostgreSQL is shared anyway.
        store = build_store(settings)
        async with working(sys.stderr, f"ledger export {month}: reading the ledger"):
            await store.open()
            try:
                return render(await bill_for(store, pricing, month, tenant=args.tenant), output_format)
            finally:
                await store.close()

    data = asyncio.run(export())
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _backtest(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime, timedelta

    import orjson

    from proxy.backtest.html import render_html
    from proxy.backtest.report import build_backtest
    from proxy.cli_progress import working
    from proxy.comparison.rules import load_compare_rules
    from proxy.mapping.catalog import load_catalog
    from proxy.state.factory import build_state_store

    def moment(text: str | None, default: datetime, name: str) -> datetime:
        if text is None:
            return default
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(f"{name}: not an ISO-8601 date or time") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed

    settings = _settings(args)
    if args.days <= 0:
        raise UsageError(f"--days: a window of at least one day, not {args.days}")
    until = moment(args.to, datetime.now(UTC), "--to")
    since = moment(args.since, until - timedelta(days=args.days), "--from")
    if since >= until:
        raise UsageError("--from must be before --to")
    catalog = load_catalog(settings.mappings_dir)
    known = _known_tenant(settings, catalog, args.tenant)
    rules = load_compare_rules(catalog)
    settings = _read_only(settings)

    async def read() -> list[Any]:
        # The database the serving proxy writes: readable beside running workers.
        store = build_state_store(settings)
        async with working(sys.stderr, f"backtest {args.tenant}: reading shadow results"):
            await store.open()
            try:
                return list(
                    await store.shadow_results(args.tenant, since=since, until=until, product=args.product)
                )
            finally:
                await store.close()

    report = build_backtest(args.tenant, asyncio.run(read()), rules, window_from=since, window_to=until)
    if args.html:
        from proxy.mapping.version import mapping_version

        page = render_html(
            report,
            tenant_name=known.name,
            products=[args.product] if args.product else sorted(known.products),
            internal=args.internal,
            locale=args.lang,
            mapping_version=mapping_version(settings.mappings_dir),
        )
        Path(args.html).write_text(page, encoding="utf-8")
    data = orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2)
    if args.json:
        Path(args.json).write_bytes(data)
    if not args.html and not args.json:
        sys.stdout.buffer.write(data + b"\n")
    verdict = "ready" if report.ready else "not ready"
    failing = ", ".join(check.name for check in report.checks if not check.passed)
    print(
        f"{args.tenant}: {report.samples} samples over {report.hours:g} h and {report.distinct_days} days, "
        f"{verdict}" + (f" ({failing})" if failing else ""),
        file=sys.stderr,
    )
    return 0 if report.ready else EXIT_FAILED_VERDICT


def _read_only(settings: Settings) -> Settings:
    """A command that only reads never creates or migrates the proxy's database: no
    SQLite file yet is an error, and an existing schema is checked, not moved."""
    from proxy.db.location import sqlite_path

    if not settings.database.dsn and not sqlite_path(settings).exists():
        raise ConfigError(f"no database at {sqlite_path(settings)}: nothing has been recorded there yet")
    checked = settings.database.model_copy(update={"auto_migrate": False})
    return settings.model_copy(update={"database": checked})


def _known_tenant(settings: Settings, catalog: Any, tenant: str) -> Any:
    """Refuse a tenant the tenant file does not have (a typo would read as 'no samples')."""
    from proxy.tenants import demo_tenants_file, load_tenants

    directory = load_tenants(
        settings.tenants_file or demo_tenants_file(),
        known_products=frozenset(catalog.products),
        simulator_only=settings.pdt.all_simulator,
    )
    found = directory.get(tenant)
    if found is None:
        known = ", ".join(sorted(directory.tenants)) or "none"
        raise UsageError(f"unknown tenant {tenant!r} (the tenant file has: {known})")
    return found


def _replay(args: argparse.Namespace) -> int:
    from proxy.replay.commands import replay

    return replay(args, _settings(args))


def _record(args: argparse.Namespace) -> int:
    from proxy.replay.commands import record

    return record(args, _settings(args))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pdt-proxy")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pdt-proxy",
        description=__doc__.split("\n\n")[0],
        epilog="exit: 0 ok, 1 unusable configuration, 2 bad usage, 3 failed verdict (replay, backtest)",
    )
    parser.add_argument("--version", action="version", version=f"pdt-proxy {_version()}")
    parser.add_argument("--config", help=CONFIG_HELP)
    commands = SubCommands(parser, "command")

    serve = commands.add("serve", help="run the proxy")
    serve.add_argument("--host", help="listen address (env PROXY_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (env PROXY_PORT; default 8080)")
    serve.add_argument("--workers", type=int, help="worker processes (env PROXY_WORKERS; default 1)")
    serve.add_argument(
        "--admin-port",
        type=int,
        help="the admin API and /metrics on this port only (env PROXY_ADMIN_PORT; default: the public port)",
    )
    serve.add_argument(
        "--watch",
        action="store_true",
        help="reload when a mapping, tenant or pricing file changes (env PROXY_WATCH=1; one process only)",
    )
    serve.set_defaults(run=_serve)

    lint = commands.add("lint", help="validate the mappings offline and print DE-PARA coverage")
    lint.add_argument(
        "--mappings", help="mappings directory (env PROXY_MAPPINGS_DIR; default: the shipped ones)"
    )
    lint.set_defaults(run=_lint)

    importer = commands.add("import-table", help="import an operator's DE-PARA CSV into a code table")
    importer.add_argument("csv")
    importer.add_argument("--product", required=True)
    importer.add_argument("--table", required=True)
    importer.add_argument(
        "--column", action="append", metavar="NAME=TITLE", help="CSV title of a declared column"
    )
    importer.add_argument("--mappings", help="mappings directory (env PROXY_MAPPINGS_DIR)")
    importer.set_defaults(run=_import_table)

    simulate = commands.add("simulate", help="run a simulator")
    simulate.add_argument("target", choices=["pdt", "legacy"])
    simulate.add_argument("--host", default="127.0.0.1")
    simulate.add_argument("--port", type=int, default=8090)
    simulate.add_argument("--latency-ms", type=float, default=0.0)
    simulate.add_argument("--jitter-ms", type=float, default=0.0)
    simulate.add_argument("--fault-rate", type=float, default=0.0)
    simulate.add_argument(
        "--disagreement-rate", type=float, help="legacy only: share of people whose answers differ from PDT"
    )
    simulate.set_defaults(run=_simulate)

    migrate = commands.add(
        "migrate", help="apply pending database migrations and exit (a Kubernetes Job or init container)"
    )
    migrate.set_defaults(run=_migrate)

    migration = commands.add("migration", help="the migration of every tenant (the autopilot's view)")
    status = SubCommands(migration, "migration_command").add(
        "status",
        help="tenants per stage, next gate per tenant, blocked tenants and why, legacy to switch off",
    )
    status.add_argument("--json", action="store_true", help="print the estate as JSON")
    status.set_defaults(run=_migration_status)

    hasher = commands.add("hash-password", help="print the argon2id hash for a tenant file")
    hasher.set_defaults(run=_hash_password)

    ledger = commands.add("ledger", help="the usage ledger")
    export = SubCommands(ledger, "ledger_command").add("export", help="a month's bill per tenant and product")
    export.add_argument("--month", required=True, help="YYYY-MM (UTC)")
    export.add_argument("--tenant", help="one tenant only")
    export.add_argument("--out", help="write to FILE (format from its extension: .csv or .json)")
    export.add_argument("--format", choices=["json", "csv"], help="default: from --out, else json")
    export.set_defaults(run=_ledger_export)

    backtest = commands.add(
        "backtest", help="a tenant's shadow backtest, as JSON and/or an HTML page (exit 3 when not ready)"
    )
    backtest.add_argument("tenant")
    backtest.add_argument("--from", dest="since", help="window start, ISO-8601 (default: --days before --to)")
    backtest.add_argument("--to", help="window end, ISO-8601 (default: now)")
    backtest.add_argument("--days", type=int, default=7, help="window length when --from is not given")
    backtest.add_argument("--product", help="one product only")
    backtest.add_argument(
        "--html", help="write the self-contained HTML page here (the bank's copy unless --internal)"
    )
    backtest.add_argument(
        "--internal", action="store_true", help="the internal copy: rule names, per-field agreement, latency"
    )
    backtest.add_argument(
        "--lang", choices=["pt_BR", "en"], default="pt_BR", help="the page's language (default pt_BR)"
    )
    backtest.add_argument("--json", help="write the JSON report here (default: standard output)")
    backtest.set_defaults(run=_backtest)

    from proxy.replay.commands import add_record_parser, add_replay_parser

    add_replay_parser(commands).set_defaults(run=_replay)
    add_record_parser(commands).set_defaults(run=_record)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as error:
        print(f"pdt-proxy: {error}", file=sys.stderr)
        return 1
    except UsageError as error:
        print(f"pdt-proxy: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
