"""Recovery codes: ten single-use codes, shown once, for when no other factor is at hand."""

from __future__ import annotations

import secrets

COUNT = 10
#: no 0/o, 1/l/i: read off paper without doubt
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 10


def new_codes() -> list[str]:
    """``COUNT`` codes of ``LENGTH`` characters (about 50 bits each), written ``abcde-fghjk``."""
    codes = []
    for _ in range(COUNT):
        text = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        codes.append(f"{text[:5]}-{text[5:]}")
    return codes


def normalise(text: str) -> str:
    """What was typed, without spaces, dashes or case: the form that is hashed."""
    return "".join(ch for ch in text.lower() if ch not in " -\t")


def looks_like_code(text: str) -> bool:
    plain = normalise(text)
    return len(plain) == LENGTH and all(ch in ALPHABET for ch in plain)
