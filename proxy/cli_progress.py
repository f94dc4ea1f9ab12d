"""A notice on stderr while a command's slow step runs: silent when it is quick.

Reading a month of ledger rows or weeks of shadow results from a shared
PostgreSQL can take a while; a command that prints nothing for a minute looks hung.
After ``after_s`` this says what it is doing, then once a second how long it has
been at it (in place on a terminal, one line per ``every_s`` in a log).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

__all__ = ["working"]


@asynccontextmanager
async def working(
    stream: TextIO, what: str, *, after_s: float = 1.0, every_s: float = 1.0
) -> AsyncIterator[None]:
    started = time.monotonic()
    tty = stream.isatty()
    spoke = False

    async def tell() -> None:
        nonlocal spoke
        await asyncio.sleep(after_s)
        while True:
            spoke = True
            line = f"{what}… {time.monotonic() - started:.0f} s"
            stream.write(f"\r{line}" if tty else f"{line}\n")
            stream.flush()
            await asyncio.sleep(every_s if tty else max(every_s, 10.0))

    teller = asyncio.create_task(tell())
    try:
        yield
    finally:
        teller.cancel()
        if spoke:
            stream.write(f"{chr(13) if tty else ''}{what}: done in {time.monotonic() - started:.1f} s\n")
            stream.flush()
