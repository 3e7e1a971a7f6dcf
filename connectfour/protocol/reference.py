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

from .client_messages import CLIENT_EVENTS
from .errors import ERROR_CODES
from .legacy import TUTORIAL_FIELDS
from .revisions import ADDED_IN, SUBPROTOCOL_V1
from .server_messages import SERVER_EVENTS

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
        if t.pattern:
            see = "Requests" if "\\w" not in t.pattern else "Names"
            return f"string ({t.min_length or 0}-{t.max_length} chars; see {see})"
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
    if isinstance(t, mi.DictType):
        return f"object of {describe(t.key_type)} to {describe(t.value_type)}"
    if isinstance(t, mi.ListType):
        if isinstance(t.item_type, mi.StructType):
            return f"array of `{t.item_type.cls.__name__}` objects"
        return f"array of {describe(t.item_type)}"
    if isinstance(t, mi.StructType):
        return f"`{t.cls.__name__}` object"
    if isinstance(t, mi.TupleType):
        return "[" + ", ".join(describe(item) for item in t.item_types) + "]"
    raise TypeError(f"no description for {t!r}")


def _v1(revision: int | None) -> str:
    return SUBPROTOCOL_V1 if not revision or revision == 1 else f"{SUBPROTOCOL_V1} revision {revision}"


def _table(struct: type[msgspec.Struct], direction: str) -> list[str]:
    info = mi.type_info(struct)
    # Every event is a struct tagged with a string; this tells the type checker so.
    if not isinstance(info, mi.StructType) or not isinstance(info.tag, str):
        raise TypeError(f"not a struct with a string tag: {struct!r}")
    side = direction.split()[0]  # "client" or "server"
    tutorial = TUTORIAL_FIELDS.get(info.tag, None)
    since = "tutorial" if tutorial is not None else _v1(ADDED_IN.get(f"{side}:{info.tag}"))
    lines = [
        f"### `{info.tag}` ({direction}, since {since})",
        "",
        inspect.cleandoc(struct.__doc__ or ""),
        "",
        "| field | type | required | since |",
        "| --- | --- | --- | --- |",
        f'| `type` | `"{info.tag}"` | yes | {since} |',
    ]
    nested: list[mi.StructType] = []
    for field in info.fields:
        if tutorial and field.name in tutorial:
            field_since = "tutorial"
        else:
            field_since = _v1(ADDED_IN.get(f"{side}:{info.tag}.{field.name}") or ADDED_IN.get(f"{side}:{info.tag}"))
        required = "yes" if field.required else "no"
        lines.append(f"| `{field.name}` | {describe(field.type)} | {required} | {field_since} |")
        item = field.type.item_type if isinstance(field.type, mi.ListType) else field.type
        if isinstance(item, mi.StructType):
            nested.append(item)
    lines.append("")
    for part in nested:
        lines += [f"#### `{part.cls.__name__}`", "", inspect.cleandoc(part.cls.__doc__ or ""), ""]
        lines += ["| field | type | required |", "| --- | --- | --- |"]
        for field in part.fields:
            lines.append(f"| `{field.name}` | {describe(field.type)} | {'yes' if field.required else 'no'} |")
        lines.append("")
    return lines


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
