"""What a display name may not be, beyond its shape (``client_messages.Name``): a name that
could pass for someone else's, or that shows nothing.

- Written in plain letters: a name must be what Unicode's compatibility
  normalisation (NFKC) leaves as it is, so fullwidth (``Ｂｏｂ``) and styled
  mathematical letters (``𝐀𝐝𝐚``) are refused: they read as another name.
- Nothing invisible: no default-ignorable code point (Hangul fillers, joiners,
  variation selectors...), so a name of three U+3164 is not a blank name.
- One script: letters of two scripts in one name are refused (``Аda`` with a
  Cyrillic ``А`` renders exactly as ``Ada``), by the Unicode script data the
  ``confusable_homoglyphs`` library carries (digits and ``_ - . '`` belong to
  every script).
"""

from __future__ import annotations

import unicodedata

import regex
from confusable_homoglyphs import confusables

_INVISIBLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
_ANY_SCRIPT = ["COMMON", "INHERITED"]


def name_problem(name: str) -> str | None:
    """Why ``name`` may not be a display name, in words for its owner; None if it may."""
    if _INVISIBLE.search(name):
        return "a name must not hold invisible or filler characters"
    if unicodedata.normalize("NFKC", name) != name:
        return "a name must be written in plain letters, not fullwidth, styled or compatibility forms"
    if confusables.is_mixed_script(name, allowed_aliases=_ANY_SCRIPT):
        return "a name must use the letters of one script: one mixing scripts can pass for another name"
    return None
