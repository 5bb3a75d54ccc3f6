"""Label schemes (IOB1, BIO/IOB2, IOBES) in and out, and word spans from BIO.

Inside the library every tag sequence is BIO. An invalid sequence is read the way seqeval's default
(conlleval-style) reader reads it: a tag that cannot continue the open span (I-X after O, I-X after B-Y)
starts a new span. `to_bio` returns how many positions broke the declared scheme, so the loader can say so
instead of silently changing the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..errors import DataError

SCHEMES = ("bio", "iob1", "iobes")
_PREFIXES = {"bio": "BI", "iob1": "BI", "iobes": "BIES"}


class TagError(DataError):
    """A tag that is not part of the scheme; `position` is its index so callers can add file:line."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


def _check_scheme(scheme: str) -> str:
    if scheme not in _PREFIXES:
        raise DataError(f"unknown label scheme {scheme!r}; task.scheme takes one of {', '.join(SCHEMES)}")
    return scheme


def _parse(tags: Sequence[str], scheme: str) -> list[tuple[str, str | None]]:
    """Each tag as (prefix, type); ("O", None) outside spans. Types may contain '-' (B-creative-work)."""
    prefixes = _PREFIXES[_check_scheme(scheme)]
    out: list[tuple[str, str | None]] = []
    for i, tag in enumerate(tags):
        if tag == "O":
            out.append(("O", None))
        elif isinstance(tag, str) and len(tag) > 2 and tag[1] == "-" and tag[0] in prefixes:
            out.append((tag[0], tag[2:]))
        else:
            allowed = ", ".join(["O"] + [f"{p}-TYPE" for p in prefixes])
            raise TagError(f"tag {tag!r} is not a {scheme} tag (expected {allowed})", i)
    return out


def to_bio(tags: Sequence[str], scheme: str = "bio") -> tuple[list[str], int]:
    """Convert to BIO; also return the number of positions that violated `scheme`.

    bio: an I-X that does not continue an X span is invalid and becomes B-X.
    iob1: I-X starting a span is the scheme's normal form (becomes B-X); nothing counts as invalid.
    iobes: S-X -> B-X, E-X -> I-X; invalid are I-/E- that continue nothing (become B-X) and B-/I- that
    the next tag does not continue (the span ends there, as seqeval's default reader ends it).
    """
    bio, bad = _convert(tags, scheme)
    return bio, len(bad)


def invalid_positions(tags: Sequence[str], scheme: str = "bio") -> list[int]:
    """Indices of the tags that break `scheme` (those `to_bio` counts), to name them in messages."""
    return _convert(tags, scheme)[1]


def _convert(tags: Sequence[str], scheme: str) -> tuple[list[str], list[int]]:
    parsed = _parse(tags, scheme)
    out: list[str] = []
    invalid: list[int] = []
    open_type: str | None = None  # type of the span the previous tag leaves open
    for i, (p, t) in enumerate(parsed):
        if p == "O":
            out.append("O")
            open_type = None
            continue
        bad = False
        if p in "BS":
            out.append(f"B-{t}")
        elif open_type == t:
            out.append(f"I-{t}")
        else:
            out.append(f"B-{t}")
            bad = scheme != "iob1"
        if scheme == "iobes" and p in "BI":
            nxt = parsed[i + 1] if i + 1 < len(parsed) else ("O", None)
            bad = bad or not (nxt[0] in "IE" and nxt[1] == t)
        open_type = None if p in "SE" else t
        if bad:
            invalid.append(i)
    return out, invalid


def from_bio(tags: Sequence[str], scheme: str = "bio") -> list[str]:
    """Write BIO tags in `scheme` (invalid BIO is first read as `to_bio` reads it)."""
    _check_scheme(scheme)
    bio, _ = to_bio(tags, "bio")
    if scheme == "bio":
        return bio
    out: list[str] = []
    for i, tag in enumerate(bio):
        if tag == "O":
            out.append(tag)
            continue
        p, t = tag[0], tag[2:]
        if scheme == "iob1":
            prev = bio[i - 1] if i else "O"
            same_before = prev != "O" and prev[2:] == t
            out.append(f"B-{t}" if p == "B" and same_before else f"I-{t}")
        else:
            continues = i + 1 < len(bio) and bio[i + 1] == f"I-{t}"
            if p == "B":
                out.append(f"B-{t}" if continues else f"S-{t}")
            else:
                out.append(f"I-{t}" if continues else f"E-{t}")
    return out


def spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Word spans (start, end exclusive, type) of a BIO sequence; an I- that continues nothing starts one."""
    bio, _ = to_bio(tags, "bio")
    result: list[tuple[int, int, str]] = []
    start: int | None = None
    for i, tag in enumerate([*bio, "O"]):
        if tag == "O" or tag[0] == "B":
            if start is not None:
                result.append((start, i, bio[start][2:]))
                start = None
            if tag != "O":
                start = i
    return result


def detect_scheme(tag_lists: Iterable[Sequence[str]]) -> str:
    """Best guess of the scheme a corpus is written in: "iobes", "iob1" or "bio".

    Any E-/S- prefix means IOBES. Otherwise, spans opened by I- (after O or another type) against spans
    opened by B- in the same places: IOB1 opens them with I-, BIO with B-. Unparseable tags are ignored
    here (the converter reports them).
    """
    n_es = n_i_open = n_b_open = 0
    for tags in tag_lists:
        prev: str | None = None
        for tag in tags:
            if tag == "O" or not isinstance(tag, str) or len(tag) < 3 or tag[1] != "-":
                prev = None
                continue
            p, t = tag[0], tag[2:]
            if p in "ES":
                n_es += 1
            elif p == "I" and prev != t:
                n_i_open += 1
            elif p == "B" and prev != t:
                n_b_open += 1
            prev = t
    if n_es:
        return "iobes"
    return "iob1" if n_i_open > n_b_open else "bio"
