"""What protects factor secrets at rest, with keys derived from ``JOINTOPS_SECRET_KEY``.

TOTP seeds are encrypted (Fernet: AES-128-CBC and HMAC-SHA256) because the server must read
them back to check a code; a copy of the database alone does not yield them.

Recovery codes are stored as HMAC-SHA256 under a derived key, not as a slow hash: each code
carries about 50 random bits, so a slow hash would add nothing against guessing online (the
lockout stops that), while the key makes a stolen database useless for checking guesses
offline, and checking a user's ten codes stays cheap and constant-time.

Both keys come from the secret key through HKDF, one per purpose: rotating
``JOINTOPS_SECRET_KEY`` makes enrolled authenticator apps and recovery codes unreadable (users
then sign in with a passkey, or an administrator resets their factors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


class Unreadable(Exception):
    """A sealed value that the current secret key cannot open."""


def _key(purpose: str) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"jointops {purpose}".encode()
    ).derive(secret)


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key("totp seed")))


def seal(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable("sealed with another secret key") from None


def code_digest(code: str) -> str:
    return hmac.new(_key("recovery code"), code.encode(), hashlib.sha256).hexdigest()
