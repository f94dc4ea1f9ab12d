"""Subcommand parsers that all take ``--config``, so it may follow the command too.

``pdt-proxy --config F serve`` and ``pdt-proxy serve --config F`` mean the same:
every subcommand parser (nested ones too) inherits the option from one parent.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

__all__ = ["CONFIG_HELP", "SubCommands"]

CONFIG_HELP: Final = "YAML settings file (env PROXY_CONFIG; default: built-in defaults)"


class SubCommands:
    def __init__(self, parser: argparse.ArgumentParser, dest: str) -> None:
        self._group = parser.add_subparsers(dest=dest, required=True)
        # SUPPRESS: a --config after the command overrides one given before it;
        # absent, it leaves the earlier value (or none) alone.
        self._common = argparse.ArgumentParser(add_help=False)
        self._common.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)

    def add(self, name: str, **options: Any) -> argparse.ArgumentParser:
        return self._group.add_parser(name, parents=[self._common], **options)
