"""Second factors: TOTP authenticator apps, WebAuthn passkeys and security keys, recovery codes,
the policy that says who must have one, and the pages that enrol and ask for them."""
