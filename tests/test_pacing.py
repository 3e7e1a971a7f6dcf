"""When a store's next write may go (``store/pacing.py``): at once, unless the write before
carried a crowd of changes; then no sooner than the interval after it."""

from __future__ import annotations

import math

import pytest

from connectfour.store.pacing import CROWD, Pacing


def test_the_first_write_goes_at_once():
    assert Pacing(0.005).not_before == -math.inf


def test_after_a_write_of_a_crowd_the_next_waits_out_the_interval():
    pacing = Pacing(0.005)
    pacing.wrote(CROWD, now=10.0)
    assert pacing.not_before == 10.005


def test_after_a_write_of_fewer_than_a_crowd_the_next_goes_at_once():
    pacing = Pacing(0.005)
    pacing.wrote(CROWD, now=10.0)
    pacing.wrote(CROWD - 1, now=10.005)
    assert pacing.not_before == -math.inf


def test_a_crowd_can_be_a_single_change():
    pacing = Pacing(0.005, crowd=1)
    pacing.wrote(1, now=10.0)
    assert pacing.not_before == 10.005


def test_without_an_interval_no_write_waits():
    pacing = Pacing(0.0)
    pacing.wrote(100, now=10.0)
    assert pacing.not_before <= 10.0


def test_a_crowd_of_no_change_is_refused():
    with pytest.raises(ValueError, match="crowd"):
        Pacing(0.005, crowd=0)
