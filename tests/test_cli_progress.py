"""The slow-step notice: silent when quick, says what and how long when not."""

from __future__ import annotations

import asyncio
import io

import pytest

from proxy.cli_progress import working


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "step_s", "expected_lines"),
    [
        pytest.param(io.StringIO(), 0.0, [], id="quick: nothing printed"),
        pytest.param(io.StringIO(), 0.2, ["reading… 0 s", "reading: done in"], id="slow, in a log: one line"),
    ],
)
async def test_notice(stream: io.StringIO, step_s: float, expected_lines: list[str]) -> None:
    async with working(stream, "reading", after_s=0.05, every_s=0.05):
        await asyncio.sleep(step_s)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(expected_lines)
    for line, start in zip(lines, expected_lines, strict=True):
        assert line.startswith(start)


async def test_on_a_terminal_the_line_is_rewritten_in_place() -> None:
    terminal = Terminal()
    async with working(terminal, "reading", after_s=0.01, every_s=0.01):
        await asyncio.sleep(0.1)
    written = terminal.getvalue()
    assert written.startswith("\rreading… ")
    assert written.count("\n") == 1
    assert written.rstrip("\n").split("\r")[-1].startswith("reading: done in")
