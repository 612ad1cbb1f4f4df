"""WebAuthn: passkeys and security keys (py_webauthn), with the relying party from configuration.

The options go to the browser as JSON (``static/webauthn.js`` turns them into
``navigator.credentials`` calls); the challenge stays on the server and is used once. Only a
credential's id, public key and signature counter are kept. A second factor after the
directory password needs the user's presence, not verification (a security key without a PIN
qualifies), so user verification is preferred, not required.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from jointops.config import base_url

TIMEOUT_MS = 120_000


class CeremonyFailed(Exception):
    """The browser's answer did not verify (wrong challenge, origin, key or shape)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str
    name: str


def relying_party() -> RelyingParty:
    """``JOINTOPS_WEBAUTHN_RP_ID`` and ``_ORIGIN``, by default the host and origin of
    ``JOINTOPS_BASE_URL``."""
    config = current_app.config
    base = urlsplit(base_url(config))
    origin = config["WEBAUTHN_ORIGIN"] or f"{base.scheme}://{base.netloc}"
    rp_id = config["WEBAUTHN_RP_ID"] or urlsplit(origin).hostname or ""
    return RelyingParty(rp_id, origin, config["OFFICE_NAME"])


def _descriptors(credential_ids: list[str]) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in credential_ids]


def registration_options(
    user_id: int, username: str, display_name: str, existing: list[str]
) -> tuple[dict[str, Any], str]:
    """Options for ``navigator.credentials.create`` and their challenge (base64url)."""
    rp = relying_party()
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=f"jointops-user-{user_id}".encode(),
        user_name=username,
        user_display_name=display_name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(existing),
    )
    as_json: dict[str, Any] = json.loads(options_to_json(options))
    return as_json, bytes_to_base64url(options.challenge)


@dataclass(frozen=True)
class NewCredential:
    credential_id: str
    public_key: str
    sign_count: int


def verify_registration(credential: dict[str, Any], challenge: str) -> NewCredential:
    rp = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise CeremonyFailed(str(exc)) from None
    return NewCredential(
        bytes_to_base64url(verified.credential_id),
        bytes_to_base64url(verified.credential_public_key),
        verified.sign_count,
    )


def authentication_options(credential_ids: list[str]) -> tuple[dict[str, Any], str]:
    """Options for ``navigator.credentials.get`` and their challenge (base64url)."""
    options = generate_authentication_options(
        rp_id=relying_party().id,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(credential_ids),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    as_json: dict[str, Any] = json.loads(options_to_json(options))
    return as_json, bytes_to_base64url(options.challenge)


def credential_id_of(credential: dict[str, Any]) -> str | None:
    """The id the browser says it used (checked against the stored key by the verification)."""
    raw = credential.get("rawId", credential.get("id"))
    return raw if isinstance(raw, str) and 0 < len(raw) <= 1400 else None


def verify_authentication(
    credential: dict[str, Any], challenge: str, public_key: str, sign_count: int
) -> int:
    """The credential's new signature counter, once its signature over the challenge holds."""
    rp = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=base64url_to_bytes(public_key),
            credential_current_sign_count=sign_count,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise CeremonyFailed(str(exc)) from None
    return verified.new_sign_count
