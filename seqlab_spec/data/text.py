"""What every reader (and `predict`) agrees a file is: decoded text, its lines, and words fit to tag.

One definition of a line for all of them: CR LF, a lone CR (old Mac files) and LF each end one, and a leading
byte-order mark is dropped. A word or tag that still holds a control character (NUL, a stray CR or tab, ...)
or a line/paragraph separator is refused with file:line, and so is an empty or whitespace-only word: a
byte-level BPE tokenizer turns one into a bare-space subword that would carry the *next* word's label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import DataError

_EOL = re.compile(r"\r\n|\r|\n")
_EOL_BYTES = re.compile(rb"\r\n|\r|\n")


def fix_key(key: str | None) -> str:
    """The fix for a bad path: the spec field it came from, or just the path."""
    return f"fix {key} in the spec" if key else "fix the path"


def split_lines(text: str) -> list[str]:
    """Lines of a text: CR LF, CR and LF all end one (no other character does)."""
    return _EOL.split(text)


def line_col(text: str, i: int) -> tuple[int, int]:
    """1-based (line, column) of character i, lines counted as split_lines counts them."""
    ends = list(_EOL.finditer(text, 0, i))
    return len(ends) + 1, i - (ends[-1].end() if ends else 0) + 1


def decode(raw: bytes, encoding: str, source: str | Path, what: str = "data.encoding") -> str:
    """Bytes -> text without a BOM; a bad byte names its line (counted as split_lines counts) and column."""
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise DataError(f"{what}: unknown text encoding {encoding!r} (try utf-8 or latin-1)") from None
    except UnicodeDecodeError as e:
        ends = list(_EOL_BYTES.finditer(raw, 0, e.start))
        line = len(ends) + 1
        col = e.start - (ends[-1].end() if ends else 0) + 1
        fix = f"set {what} to the file's encoding (e.g. latin-1) or " if what else ""
        raise DataError(
            f"{source}:{line}: byte 0x{raw[e.start]:02x} at column {col} is not valid {encoding}; "
            f"{fix}re-save the file as {encoding}"
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text(path: str | Path, encoding: str, key: str | None) -> tuple[Path, str]:
    """The whole file decoded (see `decode`); a missing, folder or empty file is a DataError with the fix."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file not found; {fix_key(key)}")
    if p.is_dir():
        raise DataError(f"{p}: is a folder, not a file; {fix_key(key)}")
    text = decode(p.read_bytes(), encoding, p)
    if not text.strip():
        raise DataError(f"{p}: the file is empty; {fix_key(key)} or fill the file")
    return p, text


_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0B: "VT", 0x0C: "FF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL", 0x85: "NEL"}


def bad_char(s: str) -> str | None:
    """The first control character (Unicode Cc) or line/paragraph separator in s, as `U+0000 (NUL)`; else None."""
    for ch in s:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            name = _CONTROL_NAMES.get(ord(ch)) or unicodedata.name(ch, "")
            return f"U+{ord(ch):04X}" + (f" ({name})" if name else "")
    return None


def check_words(tokens: Sequence[str], tags: Sequence[str] | None, where: Callable[[int], str]) -> None:
    """Refuse words a tokenizer cannot be trusted with and tags that hide a control character.

    `where(i)` names word i (file:line). Empty / whitespace-only words and control characters are errors.
    """
    for i, tok in enumerate(tokens):
        if not tok.strip():
            shown = "empty" if not tok else f"whitespace only ({tok!r})"
            raise DataError(
                f"{where(i)}: word {i + 1} of the sentence is {shown}; a tokenizer gives it no subword of "
                "its own (a byte-level BPE would hand its bare space to the next word): remove it from the "
                "sentence, with its tag"
            )
        bad = bad_char(tok)
        if bad:
            raise DataError(
                f"{where(i)}: word {i + 1} {tok!r} holds the control character {bad}, which is not text (a "
                "stray line end or tab means the line was split wrongly): fix the line"
            )
    for i, tag in enumerate(tags or ()):
        bad = bad_char(tag)
        if bad:
            raise DataError(
                f"{where(i)}: tag {tag!r} holds the control character {bad}, which is not text: fix the line"
            )
