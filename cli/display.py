"""Stored text as a terminal shows it. Post fields and zip member names come from scraped data
and are stored exactly as they were; printed raw, an ESC starts colour and cursor sequences
that rewrite the screen, and a right-to-left override (U+202E) makes `evil\u202egpj.exe` read
as `evilexe.jpg`. So what is printed shows them as escapes instead."""

from __future__ import annotations

import json
import re
from typing import Any

# C0 and C1 controls, DEL, line and paragraph separators, and the text-direction controls.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(value: Any) -> str:
    """`value` as text safe to print: the characters above as `\\x1b`, `\\u202e`, `\\n` (a
    literal backslash is left as it is, so the escapes are for reading, not for parsing)."""
    return _UNSAFE.sub(_escape, str(value))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def json_line(value: Any) -> str:
    """`value` as one line of JSON that is still exact (a parser reads the same strings back)
    but safe to print: the characters above, which can only be inside strings, as `\\uXXXX`."""
    text = json.dumps(value, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
