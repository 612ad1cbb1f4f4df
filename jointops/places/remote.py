"""Asking a geocoder over HTTP: one GET, a deadline for the whole answer, JSON back.

Redirects are not followed and proxy variables of the environment are not read: a search
goes to the configured address and nowhere else.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from jointops.config import Area
from jointops.places.geocoder import GeocoderUnavailable

#: the largest answer read (a page of candidates is a few kilobytes)
MAX_BYTES = 1_000_000
HEADERS = {"Accept": "application/json", "User-Agent": "JointOps (task force scheduling)"}


def get_json(url: str, params: dict[str, str], *, timeout: float, service: str) -> Any:
    """The JSON that ``url`` answers to ``params`` within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    late = GeocoderUnavailable(f"The {service} geocoder did not answer within {timeout:g} s.")
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client,
            client.stream("GET", url, params=params, headers=HEADERS) as response,
        ):
            if response.status_code != 200:
                raise GeocoderUnavailable(
                    f"The {service} geocoder answered HTTP {response.status_code}."
                )
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise GeocoderUnavailable(f"The {service} geocoder's answer is too large.")
                if time.monotonic() > deadline:
                    raise late
    except httpx.TimeoutException:
        raise late from None
    except httpx.HTTPError as exc:
        raise GeocoderUnavailable(
            f"The {service} geocoder cannot be reached ({type(exc).__name__})."
        ) from None
    try:
        return httpx.Response(200, content=bytes(body)).json()
    except ValueError:
        raise GeocoderUnavailable(f"The {service} geocoder did not answer JSON.") from None


def garbage(service: str) -> GeocoderUnavailable:
    return GeocoderUnavailable(f"The {service} geocoder answered something it should not.")


class RemoteGeocoder:
    """A geocoder reached over HTTP at ``url`` + ``endpoint``, biased towards ``area``."""

    name = "remote"
    remote = True
    #: the last path segment of the search, added to the configured URL when it lacks it
    endpoint = ""

    def __init__(self, url: str, timeout: float, area: Area) -> None:
        self.url = url if url.endswith(self.endpoint) else f"{url}{self.endpoint}"
        self.timeout = timeout
        self.area = area

    def ask(self, params: dict[str, str]) -> Any:
        return get_json(self.url, params, timeout=self.timeout, service=self.name)
