"""Process-wide counters, exposed at /metrics in Prometheus' text format.

One small registry for the whole process, as a metrics library would keep:
incrementing a counter is one dictionary update, cheap enough for the move path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

#: (metric name, label value or "") -> count
_counts: Counter[tuple[str, str]] = Counter()

HELP = {
    "connectfour_moves_total": "Moves stored and announced.",
    "connectfour_games_created_total": "Games created, rematches included.",
    "connectfour_games_ended_total": "Games ended, by result reason.",
    "connectfour_refusals_total": "Requests refused with an error event, by code.",
    "connectfour_address_refusals_total": "Connections or games refused to a client address over a bound, by bound.",
    "connectfour_computer_quick_moves_total": "Computer moves played without the solver (busy or out of time).",
    "connectfour_analyses_total": "Positions analysed for /api/analysis, by source (search, cache).",
}
_LABEL = {
    "connectfour_games_ended_total": "reason",
    "connectfour_refusals_total": "code",
    "connectfour_address_refusals_total": "bound",
    "connectfour_analyses_total": "source",
}


def count(name: str, label: str = "") -> None:
    _counts[name, label] += 1


def render(gauges: Mapping[str, tuple[str, float]]) -> str:
    """The exposition text: the counters, then ``gauges`` (name -> (help, value))."""
    lines: list[str] = []
    for name, text in HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} counter"]
        values = sorted((label, n) for (metric, label), n in _counts.items() if metric == name)
        if name not in _LABEL:
            lines.append(f"{name} {sum(n for _, n in values)}")
        for label, n in values if name in _LABEL else ():
            lines.append(f'{name}{{{_LABEL[name]}="{label}"}} {n}')
    for name, (text, value) in gauges.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
    return "\n".join(lines) + "\n"
