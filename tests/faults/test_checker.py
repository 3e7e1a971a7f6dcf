"""The fault tests' checker, checked: it finds every kind of defect in records or
a log made wrong on purpose, and nothing in a clean run."""

from __future__ import annotations

from checker import Record, check

LOG = [3, 3, 4, 4, 5]


def clean_records() -> dict[str, list[Record]]:
    """A red and a yellow who saw the game as LOG holds it, each move of their own acknowledged."""
    red = [Record("snapshot", moves=())]
    yellow = [Record("snapshot", moves=())]
    for ply, column in enumerate(LOG):
        for records in (red, yellow):
            records.append(Record("seen", ply, column))
        (red if ply % 2 == 0 else yellow).append(Record("acked", ply, column))
    return {"red": red, "yellow": yellow}


def test_a_clean_run_is_clean():
    report = check({"g": clean_records()}, {"g": LOG})
    assert report.clean and not report.silent, report
    assert (report.acked, report.seen) == (5, 10)


def test_a_log_that_lost_its_last_move_shows_an_acknowledged_move_lost_and_seen_moves_divergent():
    report = check({"g": clean_records()}, {"g": LOG[:-1]})
    assert [(d.client, d.ply, d.column, d.final) for d in report.lost] == [("red", 4, 5, None)]
    assert {(d.client, d.ply) for d in report.divergent} == {("red", 4), ("yellow", 4)}


def test_a_log_with_another_move_at_a_ply_shows_it():
    tampered = [3, 3, 4, 6, 5]
    report = check({"g": clean_records()}, {"g": tampered})
    assert [(d.client, d.ply, d.final) for d in report.lost] == [("yellow", 3, 6)]
    assert {(d.client, d.ply) for d in report.divergent} == {("red", 3), ("yellow", 3)}


def test_a_move_delivered_twice_is_a_duplicate():
    records = clean_records()
    records["yellow"].insert(4, Record("seen", 1, 3))  # ply 1 again, right after it
    report = check({"g": records}, {"g": LOG})
    assert [(d.client, d.ply) for d in report.duplicated] == [("yellow", 1)]
    assert not report.lost and not report.divergent


def test_a_snapshot_the_log_does_not_hold_is_divergent():
    records = clean_records()
    records["red"].append(Record("snapshot", moves=(3, 3, 4, 4, 6)))
    report = check({"g": records}, {"g": LOG})
    assert [(d.client, d.ply, d.column) for d in report.divergent] == [("red", 4, 6)]


def test_a_loss_the_client_was_told_of_is_not_silent():
    records = clean_records()
    for records_of in records.values():
        records_of.append(Record("rewound"))
        records_of.append(Record("snapshot", moves=tuple(LOG[:3])))
    report = check({"g": records}, {"g": LOG[:3]})
    assert not report.silent, report
    assert {(d.client, d.ply) for d in report.told} == {("yellow", 3), ("red", 4)}


def test_a_loss_the_client_noticed_by_itself_is_not_silent_either():
    records = clean_records()
    records["red"] += [Record("noticed"), Record("snapshot", moves=tuple(LOG[:3]))]
    report = check({"g": records}, {"g": LOG[:3]})
    assert {d.client for d in report.divergent} == {"yellow"}  # yellow never learnt it
    assert {d.client for d in report.lost} == {"yellow"}
    assert {d.client for d in report.told} == {"red"}


def test_a_game_missing_from_what_was_read_back_loses_everything():
    report = check({"g": clean_records()}, {})
    assert len(report.lost) == 5 and len(report.divergent) == 10
