"""``--analysis``: after each move, what every column is worth with perfect play,
asked of the server's /api/analysis and printed on one line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

from ..safe import Analysis, analysis_error, clean, read_analysis


def analysis_line(answer: Analysis) -> str:
    """One line: each column's value for the side to move (W5: wins in 5, L12, D, - full) and the best."""
    values = []
    for index, column in enumerate(answer.columns, start=1):
        if column is None:
            values.append(f"{index}:-")
        elif column.result == "draw":
            values.append(f"{index}:D")
        else:
            values.append(f"{index}:{'W' if column.result == 'win' else 'L'}{column.moves}")
    best = " or ".join(str(column + 1) for column in answer.best)
    return f"Values for {answer.turn}: {' '.join(values)}. Best: {best}."


class Analyst:
    """Asks the server what the position on the board is worth and shows the
    answer, unless the game moved on while it was on its way."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base: str,
        show: Callable[[str], None],
        position: Callable[[], list[int]],
    ) -> None:
        self.session = session
        self.base = base  # the server's pages, e.g. http://localhost:8000
        self.show = show
        self.position = position  # the moves on the board now
        self._asking: set[asyncio.Task[None]] = set()

    def ask(self) -> None:
        """Ask about the position now on the board; the answer is shown when it comes."""
        task = asyncio.ensure_future(self._ask("".join(map(str, self.position()))))
        self._asking.add(task)
        task.add_done_callback(self._asking.discard)

    async def _ask(self, moves: str) -> None:
        try:
            async with self.session.get(f"{self.base}/api/analysis", params={"moves": moves}) as response:
                body = await response.content.read(64 * 1024)
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self.show(f"(analysis unavailable: {clean(str(exc), 120)})")
            return
        answer = read_analysis(body) if status == 200 else None
        if answer is None:
            reason = analysis_error(body) if status != 200 else "the server's answer could not be read"
            self.show(f"(analysis unavailable: {reason})")
            return
        if "".join(map(str, self.position())) != moves:
            return  # the game went on meanwhile
        self.show(analysis_line(answer))
