"""Phonetic codes of name words: Metaphone, and Double Metaphone's primary and alternate codes.

Metaphone gives one code per word, in English sounds. Double Metaphone
(Lawrence Philips) gives a second, alternate code where a spelling has
another reading: German and Yiddish "sch" as "sh" or "s" (Schneider: XNTR
and SNTR, which is Snyder's), "th" as "t" (Smith: SM0 and XMT, which is
Schmidt's), a Germanic "w" as "v". Anglicised surnames meet only through
these alternates.

One more alternation is folded in: b and v, one sound in Spanish (Córdoba,
Cordova; Vargas, Bargas) and the usual anglicisation of a German b (Weber,
Weaver; Huber, Hoover; Schreiber, Shriver). A word with a v is also coded
with b in its place.
"""

from __future__ import annotations

from functools import lru_cache
from typing import cast

import jellyfish
from doublemetaphone import doublemetaphone as _doublemetaphone  # type: ignore[import-untyped]


@lru_cache(maxsize=65536)
def metaphone(word: str) -> str:
    """The Metaphone code of a cleaned word: Smith, Smyth -> SM0."""
    return jellyfish.metaphone(word) if word else ""


@lru_cache(maxsize=65536)
def double_metaphone(word: str) -> tuple[str, str]:
    """Double Metaphone's (primary, alternate) codes; the alternate is the primary when the
    spelling has one reading."""
    if not word:
        return "", ""
    primary, alternate = cast(tuple[str, str], _doublemetaphone(word))
    return primary, alternate or primary


@lru_cache(maxsize=65536)
def sounds(word: str) -> frozenset[str]:
    """Double Metaphone's codes of a cleaned word, primary and alternate; also with b for v,
    and for a German "sch" at its start, with the "sh" and "s" that English writes for it
    (Double Metaphone pairs Schlesinger's "sch" readings with its "g" readings, so that
    neither code meets Slesinger's)."""
    codes = set(double_metaphone(word))
    if "v" in word:
        codes |= set(double_metaphone(word.replace("v", "b")))
    if word.startswith("sch") and len(word) > 4:
        codes |= set(double_metaphone("sh" + word[3:])) | set(double_metaphone("s" + word[3:]))
    return frozenset(codes - {""})
