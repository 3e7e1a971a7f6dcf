"""Renders the event tables of docs/protocol.md from the message definitions.

``python -m connectfour.protocol.reference --write`` refreshes the document;
a test fails when the two differ, so the reference cannot drift from the code.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import msgspec
import msgspec.inspect as mi

from .errors import ERROR_CODES
from .legacy import TUTORIAL_FIELDS
from .messages import CLIENT_EVENTS, SERVER_EVENTS, SUBPROTOCOL_V1

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
BEGIN = "<!-- BEGIN GENERATED: run `python -m connectfour.protocol.reference --write` -->"
END = "<!-- END GENERATED -->"


def describe(t: mi.Type) -> str:
    if isinstance(t, mi.Metadata):
        return describe(t.type)
    if isinstance(t, mi.IntType):
        if t.ge is not None and t.le is not None:
            return f"integer {t.ge}-{t.le}"
        return "integer"
    if isinstance(t, mi.StrType):
        if t.min_length or t.max_length:
            return f"string ({t.min_length or 0}-{t.max_length} chars)"
        return "string"
    if isinstance(t, mi.FloatType):
        return "number"
    if isinstance(t, mi.BoolType):
        return "boolean"
    if isinstance(t, mi.NoneType):
        return "null"
    if isinstance(t, mi.LiteralType):
        return " \\| ".join(f'`"{v}"`' for v in t.values)
    if isinstance(t, mi.UnionType):
        return " or ".join(describe(member) for member in t.types)
    if isinstance(t, mi.ListType):
        return f"array of {describe(t.item_type)}"
    if isinstance(t, mi.TupleType):
        return "[" + ", ".join(describe(item) for item in t.item_types) + "]"
    raise TypeError(f"no description for {t!r}")


def _table(struct: type[msgspec.Struct], direction: str) -> list[str]:
    info = mi.type_info(struct)
    # Every event is a struct tagged with a string; this tells the type checker so.
    if not isinstance(info, mi.StructType) or not isinstance(info.tag, str):
        raise TypeError(f"not a struct with a string tag: {struct!r}")
    tutorial = TUTORIAL_FIELDS.get(info.tag, None)
    since = "tutorial" if tutorial is not None else SUBPROTOCOL_V1
    lines = [
        f"### `{info.tag}` ({direction}, since {since})",
        "",
        inspect.cleandoc(struct.__doc__ or ""),
        "",
        "| field | type | required | since |",
        "| --- | --- | --- | --- |",
        f'| `type` | `"{info.tag}"` | yes | {since} |',
    ]
    for field in info.fields:
        field_since = "tutorial" if tutorial and field.name in tutorial else SUBPROTOCOL_V1
        required = "yes" if field.required else "no"
        lines.append(f"| `{field.name}` | {describe(field.type)} | {required} | {field_since} |")
    return lines + [""]


def render() -> str:
    lines = ["## Client to server", ""]
    for client_event in CLIENT_EVENTS:
        lines += _table(client_event, "client to server")
    lines += ["## Server to client", ""]
    for server_event in SERVER_EVENTS:
        lines += _table(server_event, "server to client")
    lines += ["## Error codes", "", "| code | meaning |", "| --- | --- |"]
    lines += [f"| `{code}` | {meaning} |" for code, meaning in ERROR_CODES.items()]
    return "\n".join(lines) + "\n"


def generated_section(text: str) -> str:
    start = text.index(BEGIN) + len(BEGIN)
    return text[start : text.index(END)].strip("\n") + "\n"


def main(argv: list[str]) -> int:
    if "--write" in argv:
        text = DOC.read_text()
        start = text.index(BEGIN) + len(BEGIN)
        DOC.write_text(text[:start] + "\n" + render() + text[text.index(END) :])
        return 0
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
