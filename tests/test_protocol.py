"""Protocol codec and its reference document."""

from __future__ import annotations

import json

import pytest

from connectfour.protocol import ProtocolError, decode, encode, encode_legacy
from connectfour.protocol.client_messages import Init, Play
from connectfour.protocol.legacy import TUTORIAL_FIELDS
from connectfour.protocol.reference import DOC, generated_section, render
from connectfour.protocol.server_messages import (
    SERVER_EVENTS,
    DrawEvent,
    ErrorEvent,
    InitEvent,
    PlayEvent,
    PresenceEvent,
    StateEvent,
    WinEvent,
)


def test_the_reference_document_matches_the_message_definitions():
    assert generated_section(DOC.read_text()) == render(), (
        "docs/protocol.md is stale: run `python -m connectfour.protocol.reference --write`"
    )


def test_every_server_event_is_described_in_the_reference():
    text = DOC.read_text()
    for struct in SERVER_EVENTS:
        assert f"### `{struct.__struct_config__.tag}` (server to client" in text


def test_tutorial_frames_decode():
    assert decode('{"type":"play","column":3}') == Play(column=3)
    assert decode('{"type":"init"}') == Init()
    assert decode('{"type":"init","join":"abc"}') == Init(join="abc")
    assert decode(b'{"type": "init", "watch": "abc"}') == Init(watch="abc")


def test_unknown_fields_are_ignored_for_forward_compatibility():
    assert decode('{"type":"play","column":3,"extra":true}') == Play(column=3)


@pytest.mark.parametrize(
    "frame, code",
    [
        ("", "invalid_json"),
        ("{}", "invalid_message"),
        ('{"type":"jump"}', "unknown_type"),
        ('{"type":"play","column":6.0}', "invalid_column"),
        ('{"type":"play","column":1e400}', "invalid_column"),
    ],
)
def test_decoding_errors_carry_a_code(frame, code):
    with pytest.raises(ProtocolError) as refused:
        decode(frame)
    assert refused.value.code == code


def test_v1_encoding_is_compact_and_omits_absent_fields():
    assert encode(InitEvent(game="g", watch="w")) == b'{"type":"init","game":"g","watch":"w"}'
    assert encode(DrawEvent()) == b'{"type":"draw"}'


SAMPLES = [
    InitEvent(game="g", watch="w", join="j"),
    PlayEvent("red", 3, 0, 0, "yellow"),
    WinEvent("yellow", "four", [(0, 0), (1, 1), (2, 2), (3, 3)]),
    ErrorEvent(message="Nope.", code="game_over"),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_tutorial_clients_get_only_tutorial_fields(event):
    (frame,) = encode_legacy(event)
    decoded = json.loads(frame)
    assert set(decoded) - {"type"} == set(TUTORIAL_FIELDS[decoded["type"]]) & set(decoded)
    assert set(decoded) - {"type"} <= set(TUTORIAL_FIELDS[decoded["type"]])


def test_tutorial_frames_use_json_dumps_spacing():
    (frame,) = encode_legacy(PlayEvent("red", 3, 0, 0, "yellow"))
    assert frame == b'{"type": "play", "player": "red", "column": 3, "row": 0}'


def test_tutorial_clients_get_no_presence_and_a_draw_as_a_message():
    assert encode_legacy(PresenceEvent("connected", "empty", 0)) == []
    assert encode_legacy(DrawEvent()) == [b'{"type": "error", "message": "The game ended in a draw."}']


def test_a_snapshot_becomes_the_tutorials_replay():
    state = StateEvent(
        game="g", you="spectator", moves=[3, 3, 4], ply=3, status="playing", turn="yellow",
        red="connected", yellow="connected", spectators=1,
    )  # fmt: skip
    assert [json.loads(f) for f in encode_legacy(state)] == [
        {"type": "play", "player": "red", "column": 3, "row": 0},
        {"type": "play", "player": "yellow", "column": 3, "row": 1},
        {"type": "play", "player": "red", "column": 4, "row": 0},
    ]


def test_a_frame_nested_too_deeply_to_decode_is_a_clear_refusal():
    deep = b'{"type":"init","x":' + b"[" * 5000 + b"]" * 5000 + b"}"
    with pytest.raises(ProtocolError) as refused:
        decode(deep)
    assert refused.value.code == "invalid_message" and "nested too deeply" in refused.value.message


@pytest.mark.parametrize(
    "name, why",
    [
        ("\u3164\u3164\u3164", "invisible"),  # Hangul fillers: a name that shows nothing
        ("Ad\u3164a", "invisible"),
        ("\u0410da", "one script"),  # a Cyrillic A: renders exactly as Ada
        ("Grac\u0435", "one script"),  # a Cyrillic e at the end
        ("\uff22\uff4f\uff42", "plain letters"),  # fullwidth Bob
        ("\U0001d400\U0001d41d\U0001d41a", "plain letters"),  # mathematical bold Ada
    ],
)
def test_a_name_that_could_pass_for_another_or_shows_nothing_is_refused(name, why):
    with pytest.raises(ProtocolError) as refused:
        decode(json.dumps({"type": "init", "name": name}))
    assert refused.value.code == "invalid_message" and why in refused.value.message


@pytest.mark.parametrize(
    "name",
    [
        "Ada",
        "Zo\u00eb",
        "\u00dcn\u00ef",
        "\u674e\u5c0f\u9f8d",
        "\u0410\u043d\u044f",
        "Jean-Luc",
        "O'Neil",
        "Bo b",
        "R2-D2",
    ],
)
def test_names_of_one_script_in_plain_letters_are_accepted(name):
    assert decode(json.dumps({"type": "match", "name": name})).name == name
