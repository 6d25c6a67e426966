"""Text from a file made safe to show: control characters become visible, never obeyed.

A network's names, a file's lines quoted in an error message, anything a user's file
holds may contain terminal escape sequences (``ESC ] 0 ; title BEL`` retitles a window,
``ESC [ 2 J`` clears the screen) or bidirectional overrides that reorder what a reader
sees. Every place that prints such text passes it through :func:`visible` first; the
data formats (JSON, CSV, the network file) keep the text exactly as it was written.
JSON says the same text with escapes (:func:`json_escaped`); CSV has none, so CSV shown
on a terminal has its names made visible and CSV written to a file or pipe is exact.
"""

from __future__ import annotations

import re

# C0 controls (tab and newline included: a name never spans lines), DEL, C1 controls,
# and the Unicode format characters that reorder or hide text.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control pictures: ␛ for ESC, ␇ for BEL
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """``text`` with every control or reordering character replaced by a visible stand-in.

    ESC becomes ␛ (U+241B), BEL ␇, a newline ␊; DEL ␡; C1 controls and bidirectional or
    zero-width format characters are written as ``<U+202E>``. Text without them is returned
    unchanged, so ordinary names cost nothing.
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_picture, text)


def json_escaped(json_text: str) -> str:
    """JSON text with every character :func:`visible` would replace written as a ``\\uXXXX`` escape.

    ``json.dumps`` escapes the C0 controls itself but, with ``ensure_ascii=False``, writes DEL,
    the C1 controls (U+009B is a CSI to some terminals) and the reordering characters as they
    are. Outside its strings JSON is ASCII punctuation, so each such character is inside a
    string, where the escape reads back as the same character: the data is unchanged.
    """
    if _UNSAFE.search(json_text) is None:
        return json_text
    return _UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)
