"""Text that people type, paste or import, made safe to store and show.

`clean_text` is the one place where invisible characters are removed from what becomes a
title, a name, an objection or a cell of a published table. It is called by the services (and
by the resident validator the services and the import share), because that is the one layer
every path goes through: staff forms, the public forms, the JSON API, SMS replies, imports and
the demo builder alike. A form mixin would miss the API, SMS and imports.
"""

import unicodedata

# Characters that show nothing yet change what is shown: bidirectional overrides and isolates
# (U+202A–202E, U+2066–2069) reverse the text around them ("gpj.exe" shows as "exe.jpg"),
# zero-width characters split or join words invisibly. All are category Cf (format); control
# characters (Cc) and lone surrogates (Cs, which PostgreSQL refuses) go too. Hangul fillers
# are letters that draw nothing, used for names that look blank.
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
# Line breaks in any of their forms; in a single line they become a space.
_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def clean_text(value, *, multiline: bool = False) -> str:
    """`value` without invisible control and format characters, stripped.

    multiline=False (titles, names, table cells): tabs and line breaks become one space each.
    multiline=True (a body, an objection, a note): line breaks become "\\n", tabs are kept.
    Visible spaces (including the full-width U+3000) are kept."""
    if value is None:
        return ""
    value = str(value)
    if value.isprintable() and _BLANK_LETTERS.isdisjoint(value):  # the common case
        return value.strip()
    if multiline:
        value = value.replace("\r\n", "\n")
    out = []
    for ch in value:
        if ch.isprintable():
            if ch not in _BLANK_LETTERS:
                out.append(ch)
        elif ch in _BREAKS:
            out.append("\n" if multiline else " ")
        elif ch == "\t":
            out.append("\t" if multiline else " ")
        elif unicodedata.category(ch) not in _DROP_CATEGORIES:
            out.append(ch)  # other separators (U+3000, U+00A0) and unassigned code points
    return "".join(out).strip()


def size_text(n: int) -> str:
    """A byte count as "12 MB" or "300 KB", for messages."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.0f} MB"
    return f"{max(1, n // 1024)} KB"
