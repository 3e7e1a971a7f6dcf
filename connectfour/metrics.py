"""Process-wide counters and latency histograms, exposed at /metrics through prometheus-client.

The move path only touches plain numbers in this process's memory: ``count``
is one dictionary update (and ``MOVES``, bumped on every move, a single
attribute), and a latency (``store_appended``, ``fanned_out``) one bisect
into a small array of bucket counts. prometheus-client's own metrics take
a lock on every update, and with workers write a shared file: several
times the cost, on every move. So prometheus-client gets the numbers
off that path:

* one process: a scrape reads them (with the live gauges the page passes)
  and prometheus-client writes the exposition;
* ``connectfour serve --workers N``: the supervisor gives its workers a fresh
  directory in ``PROMETHEUS_MULTIPROC_DIR``, prometheus-client's multiprocess
  mode. Each worker adds what its numbers gained since its last ``flush``
  to prometheus-client counters in that directory (every ``FLUSH_INTERVAL``
  seconds, at each scrape, and when it stops), and sets its live gauges
  there (``livesum``: the supervisor drops those of a dead worker). A scrape
  of any worker reads every worker's files through ``MultiProcessCollector``:
  /metrics shows the sum over the workers, the others' numbers at most
  ``FLUSH_INTERVAL`` late. A dead worker's counts stay in the sum (a worker
  started again counts from zero in files of its own); one killed outright
  loses at most its last interval.
"""

from __future__ import annotations

import itertools
import os
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from time import perf_counter

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from prometheus_client import Counter as SharedCounter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: The content type of /metrics: prometheus-client's text format.
CONTENT_TYPE = CONTENT_TYPE_LATEST
#: The directory the workers of ``--workers`` share their metrics in (the supervisor's); None in one process.
#: Read at start, as prometheus-client reads it at import to choose where its values live.
DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
#: Seconds between a worker's flushes to ``DIRECTORY``: how late /metrics may be about the other workers.
FLUSH_INTERVAL = 1.0

#: (metric name, label value or "") -> count
_counts: Counter[tuple[str, str]] = Counter()

HELP = {
    "connectfour_moves_total": "Moves stored and announced.",
    "connectfour_redis_batches_total": "Batches of appends sent to Redis (--redis): moves per batch is the moves over this.",
    "connectfour_journal_writes_total": "Writes to the SQLite store's journal: moves per write is the moves over this.",
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


class Tally:
    """A counter without labels that its caller bumps itself, ``tally.value += 1``: one
    attribute updated, without ``count``'s call and the key it makes and looks up."""

    __slots__ = ("name", "value")

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0


#: ``connectfour_moves_total``, counted on every move.
MOVES = Tally("connectfour_moves_total")
_TALLIES = (MOVES,)


def _totals() -> dict[tuple[str, str], int]:
    """Every counter's value in this process: ``count``'s and the tallies'."""
    totals = dict(_counts)
    for tally in _TALLIES:
        key = (tally.name, "")
        totals[key] = totals.get(key, 0) + tally.value
    return totals


# -- latencies ----------------------------------------------------------------

#: Upper bounds of the latency buckets, in seconds: 10 µs (a fan-out to a few
#: connections) to 2.5 s (a store in trouble); above them, the +Inf bucket.
BUCKETS = (
    1e-05,
    2.5e-05,
    5e-05,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)
#: The ``le`` label of each bucket, written as prometheus-client writes it.
_LE = [repr(bound) for bound in BUCKETS] + ["+Inf"]


class Latency:
    """One histogram's numbers in this process: the count in each bucket (not
    cumulative; the last one above every bound) and the sum of the observations."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.help = text
        self.counts = [0] * len(_LE)
        self.sum = [0.0]  # one cell, updated in place by the observer

    def observer(self) -> Callable[[float], None]:
        """A function of ``started`` (a ``time.perf_counter()``) that observes the seconds since."""
        counts, total, bounds = self.counts, self.sum, BUCKETS

        def observe(started: float) -> None:
            seconds = perf_counter() - started
            counts[bisect_left(bounds, seconds)] += 1  # le: a value on a bound is in its bucket
            total[0] += seconds

        return observe


STORE_APPEND = Latency(
    "connectfour_store_append_seconds", "Seconds from a move's append to the store to the store's answer."
)
MOVE_FANOUT = Latency(
    "connectfour_move_fanout_seconds", "Seconds to send a move's announcement to the connections of this process."
)
_LATENCIES = (STORE_APPEND, MOVE_FANOUT)

#: ``store_appended(started)``: the store answered a move's append, begun at ``started`` (``time.perf_counter()``).
store_appended = STORE_APPEND.observer()
#: ``fanned_out(started)``: a move's announcement, begun at ``started``, was sent to every connection of its game here.
fanned_out = MOVE_FANOUT.observer()


# -- exposition -----------------------------------------------------------------

Gauges = Mapping[str, tuple[str, float]]
"""Live gauges of this process: name -> (help, value)."""


class _Numbers:
    """What /metrics shows: this process's numbers, or the sum over the workers."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], float] = {}
        self.buckets = {latency.name: [0.0] * len(_LE) for latency in _LATENCIES}  # not cumulative
        self.sums = {latency.name: 0.0 for latency in _LATENCIES}
        self.gauges: dict[str, tuple[str, float]] = {}


class _Exposition(Collector):
    """The numbers as metric families: counters, histograms, then gauges."""

    def __init__(self, numbers: _Numbers) -> None:
        self.numbers = numbers

    def collect(self) -> Iterable[Metric]:
        numbers = self.numbers
        for name, text in HELP.items():
            label = _LABEL.get(name)
            if label is None:
                yield CounterMetricFamily(name, text, value=numbers.counts.get((name, ""), 0))
                continue
            family = CounterMetricFamily(name, text, labels=[label])
            for (metric, label_value), n in sorted(numbers.counts.items()):
                if metric == name:
                    family.add_metric([label_value], n)
            yield family
        for latency in _LATENCIES:
            cumulative = itertools.accumulate(numbers.buckets[latency.name])
            buckets = list(zip(_LE, cumulative))
            yield HistogramMetricFamily(
                latency.name, latency.help, buckets=buckets, sum_value=numbers.sums[latency.name]
            )
        for name, (text, value) in numbers.gauges.items():
            yield GaugeMetricFamily(name, text, value=value)


def _here(gauges: Gauges) -> _Numbers:
    numbers = _Numbers()
    numbers.counts.update(_totals())
    for latency in _LATENCIES:
        numbers.buckets[latency.name] = [float(n) for n in latency.counts]
        numbers.sums[latency.name] = latency.sum[0]
    numbers.gauges = dict(gauges)
    return numbers


class _Shared:
    """This worker's numbers in ``DIRECTORY``: prometheus-client counters in
    multiprocess mode, added to by what changed since the last flush, and
    live gauges, set. Histograms are stored as a counter per bucket and one
    for the sum, and put together again when read."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.counters = {
            name: SharedCounter(name, text, [_LABEL[name]] if name in _LABEL else [], registry=None)
            for name, text in HELP.items()
        }
        self.buckets = {
            latency.name: SharedCounter(f"{latency.name}_bucket", latency.help, ["le"], registry=None)
            for latency in _LATENCIES
        }
        self.sums = {
            latency.name: SharedCounter(f"{latency.name}_sum", latency.help, registry=None) for latency in _LATENCIES
        }
        self.gauges: dict[str, Gauge] = {}
        # What the files hold of this worker's numbers.
        self.flushed: Counter[tuple[str, str]] = Counter()
        self.flushed_buckets = {latency.name: [0] * len(_LE) for latency in _LATENCIES}
        self.flushed_sums = {latency.name: 0.0 for latency in _LATENCIES}

    def flush(self, gauges: Gauges) -> None:
        for key, n in _totals().items():
            delta = n - self.flushed[key]
            name, label = key
            counter = self.counters.get(name)
            if delta and counter is not None:
                (counter.labels(label) if name in _LABEL else counter).inc(delta)
                self.flushed[key] = n
        for latency in _LATENCIES:
            flushed = self.flushed_buckets[latency.name]
            for i, n in enumerate(latency.counts):
                if n != flushed[i]:
                    self.buckets[latency.name].labels(_LE[i]).inc(n - flushed[i])
                    flushed[i] = n
            total = latency.sum[0]
            if total != self.flushed_sums[latency.name]:
                self.sums[latency.name].inc(total - self.flushed_sums[latency.name])
                self.flushed_sums[latency.name] = total
        for name, (text, value) in gauges.items():
            gauge = self.gauges.get(name)
            if gauge is None:
                gauge = self.gauges[name] = Gauge(name, text, multiprocess_mode="livesum", registry=None)
            gauge.set(value)

    def read(self, gauges: Gauges) -> _Numbers:
        """The sum over every worker's files (this one's flushed first)."""
        numbers = _Numbers()
        bucket_names = {f"{latency.name}_bucket_total": latency.name for latency in _LATENCIES}
        sum_names = {f"{latency.name}_sum_total": latency.name for latency in _LATENCIES}
        others: dict[str, tuple[str, float]] = {}
        collector = MultiProcessCollector(None, self.directory)  # type: ignore[no-untyped-call]
        for metric in collector.collect():  # type: ignore[no-untyped-call]
            for sample in metric.samples:
                name, labels, value = sample.name, sample.labels, sample.value
                if metric.type == "gauge":
                    others[name] = (metric.documentation, value)
                elif name in bucket_names:
                    numbers.buckets[bucket_names[name]][_LE.index(labels["le"])] += value
                elif name in sum_names:
                    numbers.sums[sum_names[name]] += value
                elif name in HELP:
                    numbers.counts[name, labels.get(_LABEL.get(name, ""), "")] = value
        # This process's gauges in their order, then any only other workers have.
        numbers.gauges = {name: others.get(name, gauge) for name, gauge in gauges.items()}
        numbers.gauges.update(sorted(others.items()))
        return numbers


_shared: _Shared | None = None


def _shared_files() -> _Shared:
    global _shared
    assert DIRECTORY is not None
    if _shared is None:
        _shared = _Shared(DIRECTORY)
    return _shared


def flush(gauges: Gauges) -> None:
    """With workers, hand this worker's numbers and ``gauges`` to the others; in one process, nothing."""
    if DIRECTORY is not None:
        _shared_files().flush(gauges)


def render(gauges: Gauges) -> bytes:
    """The exposition (of ``CONTENT_TYPE``): the counters, the latency histograms, then ``gauges``
    of this process; with workers, each the sum over all of them."""
    if DIRECTORY is None:
        numbers = _here(gauges)
    else:
        shared = _shared_files()
        shared.flush(gauges)
        numbers = shared.read(gauges)
    registry = CollectorRegistry()
    registry.register(_Exposition(numbers))
    return generate_latest(registry)
