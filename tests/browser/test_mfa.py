"""Second factors in Chromium: an authenticator app enrolled and used, recovery codes used once,
a passkey enrolled at a first sign-in and used through Chromium's virtual authenticator
(DevTools ``WebAuthn`` domain), and an administrator's reset.

The server is reached as ``localhost`` (a WebAuthn relying party is a host name, never an IP
address), with ``JOINTOPS_WEBAUTHN_RP_ID``/``_ORIGIN`` set to match; victim services (VS)
require a second factor, everyone else has the demo's ``optional``.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.browser import DESKTOP, PHONE
from tests.live_server import DEMO_PASSWORD, LiveServer

pytestmark = pytest.mark.browser

SCREENS = Path("/work/screens")
WIDE = {"width": 1440, "height": 900}


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    workdir = tmp_path_factory.mktemp("mfa")
    database = workdir / "jointops.sqlite3"
    shutil.copyfile(sqlite_template, database)
    live = LiveServer(f"sqlite:///{database}", workdir / "gunicorn.log", workers=2)
    origin = f"http://localhost:{live.port}"
    live.extra_env = {
        "JOINTOPS_BASE_URL": origin,
        "JOINTOPS_WEBAUTHN_RP_ID": "localhost",
        "JOINTOPS_WEBAUTHN_ORIGIN": origin,
        "JOINTOPS_MFA_AGENCIES": json.dumps({"VS": "required"}),
    }
    live.url = origin
    with live:
        yield live
    print(f"--- tail of {live.log_path} ---\n{live.log_tail()}", file=sys.stderr)


def shoot(page: Any, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def password(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login"))


def code(secret: str, steps_later: int) -> str:
    """The app's code ``steps_later`` steps from now (the server takes one step of drift)."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * steps_later))


def enrol_totp(page: Any, name: str) -> tuple[str, list[str]]:
    page.get_by_role("link", name="Security").click()
    page.get_by_role("link", name="Add an authenticator app").click()
    page.wait_for_selector(".qr svg")
    secret = (page.locator("#totp-seed").text_content() or "").replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_label("Name of this factor").fill(name)
    page.get_by_role("button", name="Verify and add").click()
    page.wait_for_selector("#recovery-codes")
    codes = [c.strip() for c in page.locator("#recovery-codes code").all_text_contents()]
    assert len(codes) == 10
    return secret, codes


def test_authenticator_app_and_recovery_codes(new_page: Any, server: LiveServer) -> None:
    page = new_page(WIDE)
    password(page, server, "investigator.hsi")
    page.wait_for_url(re.compile(r"/calendar"))  # optional policy, no factor yet
    secret, codes = enrol_totp(page, "Work phone")
    shoot(page, "recovery-codes-1440")
    page.get_by_role("link", name="I have saved them, continue").click()
    assert page.get_by_text("Work phone").first.is_visible()
    shoot(page, "settings-security-1440")
    sign_out(page)

    password(page, server, "investigator.hsi")
    page.wait_for_url(re.compile(r"/login/second-factor"))
    shoot(page, "second-factor-1440")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_text("That code is not right").is_visible()
    page.get_by_label("Code").fill(code(secret, 1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(re.compile(r"/calendar"))
    sign_out(page)

    for attempt in ("first", "second"):
        password(page, server, "investigator.hsi")
        page.wait_for_url(re.compile(r"/login/second-factor"))
        page.get_by_label("Code").fill(codes[0])
        page.get_by_role("button", name="Verify").click()
        if attempt == "first":
            page.wait_for_url(re.compile(r"/calendar"))
            sign_out(page)
        else:
            assert page.get_by_text("already used").is_visible()
            assert "/login/second-factor" in page.url

    phone = new_page(PHONE)
    password(phone, server, "investigator.hsi")
    phone.wait_for_url(re.compile(r"/login/second-factor"))
    shoot(phone, "second-factor-390")


def add_virtual_authenticator(page: Any) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp


def test_passkey_enrolled_at_first_sign_in_then_used(new_page: Any, server: LiveServer) -> None:
    for viewport, suffix in ((WIDE, "1440"), (PHONE, "390")):
        look = new_page(viewport)
        password(look, server, "advocate.vs")
        look.wait_for_url(re.compile(r"/login/enrol"))
        shoot(look, f"enrol-{suffix}")

    page = new_page(WIDE)
    add_virtual_authenticator(page)
    password(page, server, "advocate.vs")
    page.wait_for_url(re.compile(r"/login/enrol"))
    page.get_by_label("Name of this passkey").fill("Office laptop")
    page.get_by_role("button", name="Set up a passkey").click()
    page.wait_for_selector("#passkey-codes:not([hidden])")
    assert len(page.locator("#passkey-codes [data-codes] code").all_text_contents()) == 10
    shoot(page, "enrol-passkey-codes-1440")
    page.get_by_role("link", name="I have saved them, continue").click()
    page.wait_for_url(re.compile(r"/calendar"))
    page.get_by_role("link", name="Security").click()
    assert page.get_by_text("Office laptop").first.is_visible()
    assert page.get_by_text("Passkey or security key ·").is_visible()
    sign_out(page)

    password(page, server, "advocate.vs")
    page.wait_for_url(re.compile(r"/login/second-factor"))
    shoot(page, "second-factor-passkey-1440")
    page.get_by_role("button", name="Use a passkey").click()
    page.wait_for_url(re.compile(r"/calendar"))


def test_administrator_resets_second_factors(new_page: Any, server: LiveServer) -> None:
    page = new_page(DESKTOP)
    password(page, server, "supervisor.fbi")
    page.wait_for_url(re.compile(r"/calendar"))
    enrol_totp(page, "Phone")
    sign_out(page)

    admin = new_page(DESKTOP)
    password(admin, server, "admin.pbso")
    admin.wait_for_url(re.compile(r"/calendar"))
    admin.get_by_role("link", name="Users").click()
    admin.get_by_role("button", name="Reset second factors of supervisor.fbi").click()
    assert admin.get_by_text("Reset the second factors of supervisor.fbi").is_visible()

    password(page, server, "supervisor.fbi")
    page.wait_for_url(re.compile(r"/calendar"))  # optional policy and no factor left
    page.get_by_role("link", name=re.compile("Inbox")).click()
    assert page.get_by_text("reset your second factors").is_visible()
