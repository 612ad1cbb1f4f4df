"""Benchmark: the save-time deconfliction check of one new target and one new operation.

Makes its own data: a migrated temporary database (SQLite; PostgreSQL too when
``JOINTOPS_BENCH_POSTGRES_URL`` or ``JOINTOPS_TEST_POSTGRES_URL`` is set), the
demo directory's people, a few cases per agency, ``--targets`` identifiers on
about a third as many targets (names, dates of birth, aliases; phones,
e-mails, plates, VINs, addresses, handles, businesses, normalised and keyed
by ``deconflict`` as the app stores them; some expired, some one subject
known to two agencies) and ``--events`` operations over three years across
Palm Beach County (1-8 h, 500 or 1,500 m, some cancelled), bulk-inserted with
SQLAlchemy Core.

It then times the app's own checks, ``target_hits`` on a new target's
record and ``event_hits`` on a new operation's draft, for ``--runs`` new
items (half of them sharing an identifier, a name or a place and time with
stored ones, so that hits occur), and as the baseline the very same checks
with their candidate queries rewritten so that no index can serve them (a
full scan: ``key || ''``, ``coalesce(starts_at, starts_at)``, ``latitude +
0``, ...) for ``--baseline-runs`` of those items, in the same run; the
baseline must find the same hits.

Prints one JSON line per backend (progress goes to stderr):

    .venv/bin/python bench/deconflict.py --targets 30000 --events 30000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import statistics
import string
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade
from sqlalchemy import func, insert, or_, select

from bench.benchlib import (
    add_backend_argument,
    backends,
    database,
    drop_kept_database,
    figures,
    kept_database,
)
from deconflict.events import EventRules, grid_cell, search_area
from deconflict.identifiers import InvalidIdentifier, normalize, vin_check_digit
from deconflict.names import moniker_blocks, moniker_words
from deconflict.targets import compare_targets, namesake_keys, target_keys, target_probe_keys
from jointops import create_app
from jointops.catalog import MAX_EVENT_DURATION, SUBTYPES
from jointops.deconfliction import candidates as candidate_queries
from jointops.deconfliction import records as rule_records
from jointops.deconfliction.candidates import event_hits, target_hits
from jointops.deconfliction.records import draft_target_record, target_record
from jointops.deconfliction.target_keys import rebuild_keys
from jointops.events.rules import EventDraft
from jointops.extensions import db
from jointops.identity.directory import sync_directory
from jointops.models import (
    Agency,
    Case,
    Event,
    EventStatus,
    Participant,
    Target,
    TargetIdentifier,
    TargetKey,
    User,
    utcnow,
)
from jointops.targets.service import TargetDraft

# --- synthetic people ----------------------------------------------------------------------

# First names, commonest first (weights fall off with rank), with their everyday short forms.
FIRST: list[tuple[str, tuple[str, ...]]] = [
    (name, tuple(short.split(",")) if short else ())
    for name, _, short in (
        word.partition(":")
        for word in (
            "Michael:Mike Maria John:Johnny,Jack Jose:Pepe James:Jim,Jimmy Jennifer:Jen,Jenny "
            "Robert:Bob,Rob Jean David:Dave Ashley William:Bill,Will Carlos Marie "
            "Christopher:Chris Jessica:Jess Juan Daniel:Dan,Danny Elizabeth:Liz,Beth "
            "Anthony:Tony Luis Patricia:Patty Joseph:Joe Ana Richard:Rick Stephanie:Steph "
            "Thomas:Tom Miguel Brittany Charles:Charlie Guadalupe:Lupe Kevin Samantha:Sam "
            "Francisco:Paco,Pancho Tamika Marcus Latoya Darnell Rebecca:Becky Jorge "
            "Katherine:Kathy,Katie Eduardo:Lalo Dolores:Lola Tyrone Margaret:Maggie,Peggy "
            "Alejandro:Alex Victoria:Vicky Wilner Fabiola Ignacio:Nacho Rosario:Charo "
            "Andrew:Andy Yesenia Frantz Guerline Mohammed Natalya:Natasha Ahmed Svetlana:Sveta "
            "Aleksandr:Sasha Tatyana:Tanya Dmitriy:Dima Olga Minh Linh Anh Thao Omar Khaled "
            "Hector Beatriz Dwayne Monica Raymond:Ray Sofia Gregory:Greg Lucia Timothy:Tim "
            "Nadege Benjamin:Ben Roselande"
        ).split()
    )
]
LAST = (
    "Smith Johnson Williams Garcia Rodriguez Brown Jones Martinez Hernandez Lopez Gonzalez "
    "Miller Davis Perez Sanchez Wilson Pierre Anderson Ramirez Taylor Torres Nguyen Flores "
    "Rivera Moore Jackson White Gomez Diaz Harris Joseph Cruz Martin Thompson Morales "
    "Robinson Reyes Charles Clark Gutierrez Lewis Ortiz Walker Jimenez Hall Munoz Young Pena "
    "Allen Castillo King Vargas Wright Baptiste Scott Ramos Green Herrera Baker Medina Adams "
    "Aguilar Nelson Castro Hill Vasquez Campbell Mendoza Mitchell Salazar Roberts Tran Carter "
    "Figueroa Phillips Dominguez Evans Toussaint Turner Le Parker Pham Collins Hoang Edwards "
    "Haddad Stewart Ivanov Morris Smirnov Murphy Petrov Cook Volkov Rogers Hussein Morgan "
    "Mansour Cooper Khalil Bailey Augustin Reed Dorvil Kelly Etienne Howard Desir Ward Brooks "
    "Watson Sanders Bennett Gray Hughes Price Foster Powell Jenkins Perry Russell Sullivan "
    "Coleman Butler Henderson Barnes Fisher Kowalski"
).split()
# Syllables of the long tail of surnames (most people do not have a common surname).
TAIL_HEAD = (
    "Ab Al Am An Ar Bal Bar Bel Ber Bo Bran Cal Car Cas Chel Cor Dal Dar Del Dor Dra El Em "
    "Es Fal Far Fel Fon Gal Gar Gil Gor Gra Hal Har Hel Hol Ib Il Jan Jar Kal Kar Kel Kor "
    "Lan Lar Lem Lor Mal Mar Mel Mor Nav Nel Nor Ol Or Pal Par Pel Por Quin Ral Ras Rel Ros "
    "Sal Sar Sel Sor Tal Tar Tel Tor Ul Ur Val Var Vel Vor Wal War Wel Yar Zal Zar Zel"
).split()
TAIL_MID = ["", "", "a", "e", "i", "o", "u", "an", "en", "in", "ar", "er", "or", "is", "ov"]
TAIL_END = (
    "ton son sen ez es ski ley man ner ard ini ova ek ich ford well wood berg stein ello "
    "ado ido ano ino rez dez tes lin ric rick cott vich sky off ault eau ier ois"
).split()
MONIKER_BASE = (
    "snoop bones ghost smoke shorty tiny boss chino flaco gordo nene papi mami princess "
    "diamond candy honey sugar spider tank blade rocket bishop deuce ace king queen duke "
    "face tre kilo nitro ziggy toro lobo chapo guero negro rubio chato pelon chucho "
    "moose bear wolf fox hawk crow ice frost storm rain sunny sky blaze fuego loco"
).split()
MONIKER_ENDS = ["", "y", "z", "o", "man", "dog", "loc", "boy", "girl", "ito"]
AREA_CODES = ["561", "561", "561", "954", "305", "772", "407", "786", "863", "239"]
MAIL_DOMAINS = [
    "gmail.com",
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
    "protonmail.com",
    "comcast.net",
]
PLATFORMS = ["instagram", "IG", "snapchat", "telegram", "x", "tiktok", "cashapp", "onlyfans"]
PLATE_STATES = ["FL"] * 17 + ["GA", "NY", "TX", "NJ", "Georgia", "Florida"]
STREETS = (
    "Okeechobee Blvd|Military Trl|Dixie Hwy|Congress Ave|Federal Hwy|Forest Hill Blvd|"
    "Southern Blvd|Belvedere Rd|Palm Beach Lakes Blvd|Haverhill Rd|Jog Rd|Lantana Rd|"
    "Lake Worth Rd|10th Ave N|Boynton Beach Blvd|Woolbright Rd|Atlantic Ave|Linton Blvd|"
    "Glades Rd|Palmetto Park Rd|Hillsboro Blvd|Northlake Blvd|PGA Blvd|Blue Heron Blvd|"
    "Broadway|Australian Ave|Tamarind Ave|Olive Ave|Flagler Dr|Georgia Ave|Parker Ave|"
    "Summit Blvd|Gun Club Rd|Purdy Ln|Cresthaven Blvd|Hypoluxo Rd|Seacrest Blvd|"
    "Swinton Ave|Spanish River Blvd|Yamato Rd|Clint Moore Rd|Main St|Canal St|Palm Ave|"
    "Lake Dr|Sunset Dr|Ocean Blvd|Banyan Blvd|Clematis St|Datura St|Evernia St|Fern St"
).split("|")
CITIES = [
    ("West Palm Beach", "33401"),
    ("West Palm Beach", "33405"),
    ("West Palm Beach", "33407"),
    ("West Palm Beach", "33409"),
    ("West Palm Beach", "33415"),
    ("Lake Worth Beach", "33460"),
    ("Lake Worth Beach", "33461"),
    ("Lantana", "33462"),
    ("Boynton Beach", "33435"),
    ("Boynton Beach", "33436"),
    ("Delray Beach", "33444"),
    ("Delray Beach", "33445"),
    ("Boca Raton", "33431"),
    ("Boca Raton", "33432"),
    ("Boca Raton", "33433"),
    ("Riviera Beach", "33404"),
    ("Palm Beach Gardens", "33410"),
    ("Jupiter", "33458"),
    ("Belle Glade", "33430"),
    ("Greenacres", "33463"),
    ("Royal Palm Beach", "33411"),
    ("Wellington", "33414"),
]
BUSINESS_WORDS = (
    "Golden Lucky Royal Paradise Sunshine Tropical Palm Ocean Star Diamond Jade Lotus Orchid "
    "Pearl Silver Coral Blue Green Happy Elite Prime Premier Magic Dream Angel Sunrise "
    "Harbor Coastal Atlantic Southern Glades Everglades Crystal Ruby Emerald Bamboo Oasis"
).split()
BUSINESS_KINDS = (
    "Spa|Nails|Massage|Wellness Center|Day Spa|Beauty Salon|Farm Labor Services|Staffing|"
    "Cleaning Services|Landscaping|Trucking|Construction|Restaurant|Bar and Grill|Lounge|"
    "Motel|Inn|Travel Agency|Modeling Agency|Car Wash|Auto Repair|Market|Bakery|Care Home"
).split("|")
LEGAL = ["LLC", "L.L.C.", "Inc", "Inc.", "Corp", "Co.", "", "", ""]
JUSTIFICATION = "Synthetic target: reasonable suspicion stated in the case file (benchmark)."

#: Palm Beach County's bounding box, and the coastal strip where most people live.
PBC_LAT = (26.32, 26.97)
PBC_LON = (-80.89, -80.03)
COAST_LON = (-80.20, -80.03)
SPAN_PAST, SPAN_AHEAD = timedelta(days=730), timedelta(days=365)
OPERATION_AGENCIES = ["PBSO", "WPBPD", "FBI", "HSI"]
AGENCY_WEIGHTS = [40, 25, 15, 20]
CASES_PER_AGENCY = 4


def _ranked(count: int, offset: int) -> list[float]:
    """Weights falling off with rank, as names in a population do (Zipf, flattened)."""
    return [1.0 / (rank + offset) for rank in range(1, count + 1)]


FIRST_WEIGHTS = _ranked(len(FIRST), 10)
LAST_WEIGHTS = _ranked(len(LAST), 20)


@dataclass
class Person:
    """One synthetic subject: what an agency would type in, identifiers as (kind, raw)."""

    first: str
    last: str
    aliases: list[str]
    dob: date | None
    identifiers: list[tuple[str, str]] = field(default_factory=list)


class People:
    """Generates people, identifiers and places; remembers a sample of what it stored."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.normal: dict[tuple[str, str], str] = {}  # (kind, raw) -> normalised
        self.businesses = [self._business_name() for _ in range(20000)]
        self.hot_addresses = [self._street_address() for _ in range(5000)]
        self.hotspots = [self._coastal_point() for _ in range(300)]
        self.sample: list[Person] = []  # a reservoir of stored people, for the new ones
        self.seen = 0

    # names

    def first_name(self) -> tuple[str, tuple[str, ...]]:
        if self.rng.random() < 0.15:
            return self.tail_name(), ()
        return self.rng.choices(FIRST, weights=FIRST_WEIGHTS)[0]

    def last_name(self) -> str:
        if self.rng.random() < 0.55:
            return self.tail_name()
        name = self.rng.choices(LAST, weights=LAST_WEIGHTS)[0]
        if self.rng.random() < 0.05:  # two surnames, as many Hispanic records have
            name += " " + self.rng.choices(LAST, weights=LAST_WEIGHTS)[0]
        return name

    def tail_name(self) -> str:
        r = self.rng
        return r.choice(TAIL_HEAD) + r.choice(TAIL_MID) + r.choice(TAIL_END)

    def moniker(self) -> str:
        word = self.rng.choice(MONIKER_BASE) + self.rng.choice(MONIKER_ENDS)
        return word.capitalize() if self.rng.random() < 0.8 else f"Lil {word.capitalize()}"

    def person(self) -> Person:
        r = self.rng
        nicknames: tuple[str, ...] = ()
        if r.random() < 0.08:  # known only by identifiers (an ad's phone, an account)
            first, last = "", ""
        else:
            (first, nicknames), last = self.first_name(), self.last_name()
        aliases: list[str] = []
        if first and r.random() < 0.25:
            aliases.append(
                r.choice(nicknames) if nicknames and r.random() < 0.5 else self.moniker()
            )
        dob = None
        if first and r.random() < 0.7:
            dob = date(r.randint(1955, 2006), 1, 1) + timedelta(days=r.randrange(365))
        person = Person(first, last, aliases, dob)
        for _ in range(r.choices([1, 2, 3, 4, 5, 6], weights=[18, 22, 24, 18, 11, 7])[0]):
            person.identifiers.append(self.identifier(person))
        return person

    # identifiers, as people write them

    def identifier(self, person: Person) -> tuple[str, str]:
        kind = self.rng.choices(
            ["phone", "email", "handle", "plate", "address", "vin", "business"],
            weights=[30, 15, 15, 12, 13, 5, 10],
        )[0]
        return kind, getattr(self, f"_{kind}")(person)

    def _phone(self, person: Person) -> str:
        r = self.rng
        area, exchange, line = r.choice(AREA_CODES), r.randint(201, 989), r.randrange(10000)
        return self.write_phone(area, f"{exchange:03d}", f"{line:04d}")

    def write_phone(self, area: str, exchange: str, line: str) -> str:
        form = self.rng.randrange(5)
        text = [
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"+1 {area} {exchange} {line}",
            f"{area}{exchange}{line}",
        ][form]
        if self.rng.random() < 0.03:
            text += f" x{self.rng.randint(10, 999)}"
        return text

    def _email(self, person: Person) -> str:
        r = self.rng
        stem = (person.first[:1] + person.last.replace(" ", "")).lower() or r.choice(MONIKER_BASE)
        stem = "".join(c for c in stem if c in string.ascii_lowercase) or "user"
        local = f"{stem}{'.' if r.random() < 0.3 else ''}{r.randint(1, 99999)}"
        return f"{local}@{r.choice(MAIL_DOMAINS)}"

    def _handle(self, person: Person) -> str:
        r = self.rng
        stem = r.choice([person.first.lower(), r.choice(MONIKER_BASE), "vip", "real", "the"])
        stem = "".join(c for c in stem if c in string.ascii_lowercase) or "user"
        sep = r.choice(["", ".", "_"])
        return f"{r.choice(PLATFORMS)}: @{stem}{sep}{r.choice(MONIKER_BASE)}{r.randint(1, 9999)}"

    def _plate(self, person: Person) -> str:
        r = self.rng
        letters = "".join(r.choice(string.ascii_uppercase) for _ in range(r.choice([3, 4])))
        digits = "".join(r.choice(string.digits) for _ in range(r.choice([3, 4])))
        plate = letters + digits if r.random() < 0.6 else digits[:2] + letters + digits[2:]
        plate = plate[:7]
        if r.random() < 0.3:
            plate = f"{plate[:3]}-{plate[3:]}"
        return f"{r.choice(PLATE_STATES)}: {plate if r.random() < 0.8 else plate.lower()}"

    def _vin(self, person: Person) -> str:
        alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
        chars = [self.rng.choice(alphabet) for _ in range(17)]
        chars[8] = "0"
        chars[8] = vin_check_digit("".join(chars))
        return "".join(chars)

    def _street_address(self) -> str:
        r = self.rng
        city, zip5 = r.choice(CITIES)
        line = f"{r.randint(100, 9999)} {r.choice(['', '', 'N ', 'S '])}{r.choice(STREETS)}"
        if r.random() < 0.35:
            line += (
                f" {r.choice(['Apt', 'Unit', '#'])} {r.randint(1, 40)}{r.choice(['', 'A', 'B'])}"
            )
        ending = r.choice([f"{city}, FL {zip5}", f"{city}, FL", f"FL {zip5}", f"{city}, FL {zip5}"])
        return f"{line}, {ending}"

    def _address(self, person: Person) -> str:
        if self.rng.random() < 0.3:  # motels, apartment blocks, stash houses: shared places
            return self.rng.choice(self.hot_addresses)
        return self._street_address()

    def _business_name(self) -> str:
        r = self.rng
        name = f"{r.choice(BUSINESS_WORDS)} {r.choice(BUSINESS_WORDS)} {r.choice(BUSINESS_KINDS)}"
        return f"{name} {r.choice(LEGAL)}".strip()

    def _business(self, person: Person) -> str:
        name = self.rng.choice(self.businesses)
        if self.rng.random() < 0.15:
            name = f"{name} d/b/a {self.rng.choice(self.businesses)}"
        return name

    def normalised(self, kind: str, raw: str) -> str:
        known = self.normal.get((kind, raw))
        if known is None:
            known = self.normal[(kind, raw)] = normalize(kind, raw)
        return known

    def identifiers(self, person: Person) -> list[tuple[str, str, str]]:
        """``(kind, raw, normalised)`` as ``parse_identifiers`` gives them; invalid ones dropped."""
        found: list[tuple[str, str, str]] = []
        seen = set()
        kept = []
        for kind, raw in person.identifiers:
            try:
                value = self.normalised(kind, raw)
            except InvalidIdentifier:
                continue
            if (kind, value) not in seen:
                seen.add((kind, value))
                found.append((kind, raw, value))
                kept.append((kind, raw))
        person.identifiers = kept
        if len(self.normal) > 400_000:  # only shared values repeat: keep the memo small
            self.normal.clear()
        return found

    def remember(self, person: Person, size: int = 20000) -> None:
        self.seen += 1
        if len(self.sample) < size:
            self.sample.append(person)
        else:
            slot = self.rng.randrange(self.seen)
            if slot < size:
                self.sample[slot] = person

    def variant(self, person: Person) -> Person:
        """Another agency's record of (maybe) the same subject: one thing in common, written
        differently, and something of its own."""
        r = self.rng
        other = Person("", "", [], None)
        if person.identifiers and (not person.first or r.random() < 0.6):
            kind, raw = r.choice(person.identifiers)
            if kind == "phone":
                digits = "".join(c for c in raw.split("x")[0] if c.isdigit())[-10:]
                raw = self.write_phone(digits[:3], digits[3:6], digits[6:])
            elif kind == "email":
                raw = raw.upper() if r.random() < 0.5 else raw
            elif kind == "plate":
                state, plate = raw.split(":", 1)
                raw = f"{state.strip().lower()}:{plate.replace('-', '').strip()}"
            other.identifiers.append((kind, raw))
            if r.random() < 0.5:
                other.identifiers.append(self.identifier(other))
        if person.first and (not other.identifiers or r.random() < 0.5):
            nick = [a for a in person.aliases if " " not in a]
            other.first = r.choice(nick) if nick and r.random() < 0.5 else person.first
            other.last = person.last
            other.dob = person.dob if r.random() < 0.7 else None
            if not other.identifiers:
                other.identifiers.append(self.identifier(other))
        return other

    # places

    def _coastal_point(self) -> tuple[float, float]:
        return self.rng.uniform(*PBC_LAT), self.rng.uniform(*COAST_LON)

    def place(self) -> tuple[float, float]:
        r = self.rng
        roll = r.random()
        if roll < 0.2:  # around a known motel, club or stash house
            lat, lon = r.choice(self.hotspots)
            return lat + r.gauss(0, 0.003), lon + r.gauss(0, 0.003)
        if roll < 0.8:
            return self._coastal_point()
        return r.uniform(*PBC_LAT), r.uniform(*PBC_LON)


# --- storing ---------------------------------------------------------------------------------


@dataclass
class Directory:
    agencies: dict[str, int]  # code -> id
    users: dict[str, list[int]]  # agency code -> user ids
    cases: dict[str, list[int]]  # agency code -> case ids


def seed_directory() -> Directory:
    """The demo directory's agencies and people, and a few cases per agency."""
    sync_directory()
    agencies = {a.code: a.id for a in db.session.scalars(select(Agency))}
    users: dict[str, list[int]] = {}
    for user in db.session.scalars(select(User).where(User.agency_id.is_not(None))):
        assert user.agency is not None
        users.setdefault(user.agency.code, []).append(user.id)
    for code in OPERATION_AGENCIES:
        for n in range(CASES_PER_AGENCY):
            db.session.add(
                Case(
                    agency_id=agencies[code],
                    number=f"{code}-BENCH-{n + 1:03d}",
                    title=f"Synthetic case {n + 1}",
                    lead_id=users[code][0],
                )
            )
    db.session.commit()
    cases: dict[str, list[int]] = {}
    codes = {agency_id: code for code, agency_id in agencies.items()}
    for case in db.session.scalars(select(Case)):
        cases.setdefault(codes[case.agency_id], []).append(case.id)
    db.session.remove()  # no snapshot older than the data to come
    return Directory(agencies, users, cases)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_targets(
    directory: Directory, people: People, identifiers: int, chunk: int = 2000
) -> tuple[int, int, int]:
    """Targets until ``identifiers`` identifiers are stored; returns targets, identifiers, keys."""
    r = people.rng
    now = utcnow().replace(microsecond=0)
    counts = [0, 0, 0]
    started = time.perf_counter()
    next_report = 0
    tables = (Target.__table__, TargetIdentifier.__table__, TargetKey.__table__)
    while counts[1] < identifiers:
        targets: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        keys: list[dict[str, Any]] = []
        while len(targets) < chunk and counts[1] + len(rows) < identifiers:
            if people.sample and r.random() < 0.06:  # a subject another agency also holds
                person = people.variant(r.choice(people.sample))
            else:
                person = people.person()
            values = people.identifiers(person)
            if not values and not person.first:
                continue
            target_id = counts[0] + len(targets) + 1
            code = r.choices(OPERATION_AGENCIES, weights=AGENCY_WEIGHTS)[0]
            validated = now - timedelta(days=r.randrange(6 * 365))
            row = Target(
                id=target_id,
                agency_id=directory.agencies[code],
                case_id=r.choice(directory.cases[code]),
                ref=f"{code}-T-{target_id:07d}",
                first_name=person.first,
                last_name=person.last,
                aliases=list(person.aliases),
                dob=person.dob,
                submitter_id=r.choice(directory.users[code]),
                justification=JUSTIFICATION,
                validated_at=validated,
                # five years, so that about one in six has expired
                expires_at=validated + timedelta(days=5 * 365),
                created_at=validated,
                updated_at=validated,
            )
            row.identifiers = [
                TargetIdentifier(kind=kind, raw=raw, normalized=value)
                for kind, raw, value in values
            ]
            targets.append(
                {c.name: getattr(row, c.key) for c in Target.__table__.columns}
                | {"revalidation_reason": None}
            )
            rows += [
                {"target_id": target_id, "kind": kind, "raw": raw, "normalized": value}
                for kind, raw, value in values
            ]
            # the keys the app stores (jointops.targets.service.apply_draft)
            keys += [{"target_id": target_id, "key": k} for k in target_keys(target_record(row))]
            people.remember(person)
        with db.engine.begin() as conn:
            for table, batch in zip(tables, (targets, rows, keys), strict=True):
                if batch:
                    conn.execute(insert(table), batch)
        counts[0] += len(targets)
        counts[1] += len(rows)
        counts[2] += len(keys)
        if counts[1] >= next_report or counts[1] >= identifiers:
            progress(
                f"  targets {counts[0]:,} identifiers {counts[1]:,}/{identifiers:,} "
                f"keys {counts[2]:,} ({time.perf_counter() - started:.0f} s)"
            )
            next_report += max(identifiers // 10, 1)
    return counts[0], counts[1], counts[2]


@dataclass(frozen=True)
class Stored:
    """An operation stored, for new ones near it."""

    agency: str
    starts_at: datetime
    latitude: float
    longitude: float


def operation_values(
    people: People, directory: Directory, now: datetime
) -> tuple[str, int, int | None, datetime, datetime, float, float, str, int]:
    """Agency, lead, case, window, place, subtype and radius of one operation."""
    r = people.rng
    code = r.choices(OPERATION_AGENCIES, weights=AGENCY_WEIGHTS)[0]
    lead = r.choice(directory.users[code])
    case = r.choice(directory.cases[code]) if r.random() < 0.7 else None
    quarters = (SPAN_PAST + SPAN_AHEAD) // timedelta(minutes=15)
    start = now - SPAN_PAST + timedelta(minutes=15 * r.randrange(quarters))
    end = start + timedelta(hours=r.choice([1, 1, 2, 2, 3, 4, 6, 8]))
    lat, lon = people.place()
    subtype = r.choices(SUBTYPES["operation"], weights=[20, 20, 30, 15, 15])[0]
    radius = EventRules().radius_for(subtype.code, None)
    return code, lead, case, start, end, lat, lon, subtype.code, radius


def load_events(
    directory: Directory, people: People, count: int, chunk: int = 10000
) -> list[Stored]:
    """``count`` operations with their leads as participants; returns a sample of them."""
    r = people.rng
    now = utcnow().replace(second=0, microsecond=0)
    sample: list[Stored] = []
    started = time.perf_counter()
    for first in range(0, count, chunk):
        events: list[dict[str, Any]] = []
        participants: list[dict[str, Any]] = []
        for event_id in range(first + 1, min(count, first + chunk) + 1):
            code, lead, case, start, end, lat, lon, subtype, radius = operation_values(
                people, directory, now
            )
            if end < now:
                status = r.choices(["completed", "cancelled"], weights=[94, 6])[0]
            else:
                status = r.choices(["planned", "confirmed", "cancelled"], weights=[40, 54, 6])[0]
            events.append(
                {
                    "id": event_id,
                    "kind": "operation",
                    "subtype": subtype,
                    "title": f"Synthetic {subtype.replace('_', ' ')} {event_id}",
                    "owner_agency_id": directory.agencies[code],
                    "lead_id": lead,
                    "case_id": case,
                    "starts_at": start,
                    "ends_at": end,
                    "location_address": f"{r.randint(100, 9999)} {r.choice(STREETS)}, FL",
                    "latitude": round(lat, 6),
                    "longitude": round(lon, 6),
                    "radius_m": radius,
                    "grid_cell": grid_cell(round(lat, 6), round(lon, 6)),
                    "status": status,
                    "sensitivity": r.choices(["normal", "restricted", "covert"], [80, 12, 8])[0],
                    "client_code": None,
                    "notes": "",
                    "version": 1,
                    "created_by_id": lead,
                    "created_at": min(start, now) - timedelta(days=r.randint(1, 30)),
                    "updated_at": min(start, now),
                }
            )
            participants.append({"event_id": event_id, "user_id": lead, "part": "lead"})
            if status != "cancelled" and len(sample) < 20000 and r.random() < 0.05:
                sample.append(Stored(code, start, lat, lon))
        with db.engine.begin() as conn:
            conn.execute(insert(Event.__table__), events)
            conn.execute(insert(Participant.__table__), participants)
        done = min(count, first + chunk)
        if done % max(count // 10, chunk) < chunk or done == count:
            progress(f"  events {done:,}/{count:,} ({time.perf_counter() - started:.0f} s)")
    return sample


def finish_load(backend: str) -> None:
    """What a database in service has: sequences past the ids given, statistics."""
    with db.engine.begin() as conn:
        if backend == "postgresql":
            for table in ("targets", "events"):
                sequence = conn.exec_driver_sql(
                    "SELECT pg_get_serial_sequence(%(table)s, 'id')", {"table": table}
                ).scalar_one()
                highest = conn.scalar(select(func.max(sa.table(table, sa.column("id")).c.id)))
                conn.execute(select(func.setval(sequence, highest or 1)))
    if backend == "postgresql":  # autovacuum would get there; the bench does not wait
        autocommit = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    db.engine.dispose()


# --- new items -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTarget:
    agency_id: int
    case_id: int
    record: Any  # deconflict.targets.TargetRecord


@dataclass(frozen=True)
class NewOperation:
    draft: EventDraft


def new_targets(directory: Directory, people: People, count: int) -> list[NewTarget]:
    """New targets, every other one sharing an identifier or a name with a stored one."""
    r = people.rng
    found: list[NewTarget] = []
    while len(found) < count:
        sharing = len(found) % 2 == 0 and people.sample
        person = people.variant(r.choice(people.sample)) if sharing else people.person()
        values = people.identifiers(person)
        if not values and not person.first:
            continue
        code = r.choices(OPERATION_AGENCIES, weights=AGENCY_WEIGHTS)[0]
        case_id = r.choice(directory.cases[code])
        draft = TargetDraft(
            case_id=case_id,
            ref=f"NEW-{len(found)}",
            first_name=person.first,
            last_name=person.last,
            aliases=list(person.aliases),
            dob=person.dob,
            justification=JUSTIFICATION,
            identifiers=values,
        )
        record = draft_target_record(draft, directory.agencies[code])
        found.append(NewTarget(directory.agencies[code], case_id, record))
    return found


def new_operations(
    directory: Directory, people: People, stored: list[Stored], count: int
) -> list[NewOperation]:
    """New operations, every other one near a stored one in place and time."""
    r = people.rng
    now = utcnow().replace(second=0, microsecond=0)
    found = []
    for n in range(count):
        code, lead, case, start, end, lat, lon, subtype, radius = operation_values(
            people, directory, now
        )
        if n % 2 == 0 and stored:
            near = r.choice(stored)
            start = near.starts_at + timedelta(minutes=15 * r.randint(-12, 12))
            end = start + timedelta(hours=r.choice([1, 2, 3, 4]))
            lat = near.latitude + r.uniform(-0.008, 0.008)
            lon = near.longitude + r.uniform(-0.008, 0.008)
        draft = EventDraft(
            kind="operation",
            subtype=subtype,
            title=f"New {subtype.replace('_', ' ')} {n}",
            owner_agency_id=directory.agencies[code],
            lead_id=lead,
            starts_at=start,
            ends_at=end,
            case_id=case,
            latitude=lat,
            longitude=lon,
            radius_m=radius,
            participants=[(lead, "lead")],
        )
        found.append(NewOperation(draft))
    return found


# --- the baseline: the same questions with no index to serve them -------------------------


def full_scan_operation_candidates(
    record: Any, *, exclude_id: int | None, agency_id: int, case_id: int | None
) -> list[Any]:
    """``operation_candidates`` with every indexed column wrapped, so each row is read."""
    rules = rule_records.event_rules()
    stored = db.session.scalar(
        select(func.max(Event.radius_m + 0)).where(Event.kind + "" == "operation")
    )
    widest = max(stored or 0, rules.default_radius_m, *rules.radius_m.values())
    area = search_area(record, rules, widest)
    starts = func.coalesce(Event.starts_at, Event.starts_at)
    query = select(*candidate_queries.EVENT_COLUMNS).where(
        Event.kind + "" == "operation",
        starts < area.starts_before,
        starts > area.ends_after - MAX_EVENT_DURATION,
        func.coalesce(Event.ends_at, Event.ends_at) > area.ends_after,
        (Event.latitude + 0).between(area.min_lat, area.max_lat),
        (Event.longitude + 0).between(area.min_lon, area.max_lon),
        Event.status + "" != EventStatus.CANCELLED.value,
    )
    if exclude_id is not None:
        query = query.where(Event.id + 0 != exclude_id)
    if case_id is not None:
        query = query.where(
            or_(
                Event.owner_agency_id + 0 != agency_id,
                Event.case_id.is_(None),
                Event.case_id + 0 != case_id,
            )
        )
    return candidate_queries.candidate_operations(query)


def full_scan_target_candidates(
    keys: frozenset[str], *, exclude_id: int | None, agency_id: int, case_id: int
) -> list[Any]:
    """``target_candidates`` reading every key and every target."""
    if not keys:
        return []
    by_name: dict[int, bool] = {}
    for target_id, key in db.session.execute(
        select(TargetKey.target_id + 0, TargetKey.key + "").where(
            (TargetKey.key + "").in_(sorted(keys))
        )
    ):
        named = key.startswith(candidate_queries.NAME_KEY_PREFIX)
        by_name[target_id] = by_name.get(target_id, False) or named
    query = select(*candidate_queries.RECORD_COLUMNS).where(
        (Target.id + 0).in_(sorted(by_name)),
        func.coalesce(Target.expires_at, Target.expires_at) > utcnow(),
        or_(Target.agency_id + 0 != agency_id, Target.case_id + 0 != case_id),
    )
    if exclude_id is not None:
        query = query.where(Target.id + 0 != exclude_id)
    return candidate_queries.candidate_records(query, by_name=by_name)


def reference_hits(item: NewTarget) -> list[int]:
    """The hits of the rules as ``deconflict`` states them, with none of the check's
    shortcuts: every probe key looked up (the blocks of a name alone too, however common
    the name), every name and street name of both sides counted, every pair's blocks
    computed by the rules (``names_blocked=None``). ``target_hits`` must find the same."""
    record = item.record
    found = candidate_queries.target_candidates(
        target_probe_keys(record), exclude_id=None, agency_id=item.agency_id, case_id=item.case_id
    )
    names = frozenset().union(namesake_keys(record), *(namesake_keys(o.record) for o in found))
    words = moniker_words(record.person) if record.person is not None else frozenset()
    blocks = {word: moniker_blocks(word) for word in words}
    counts = candidate_queries.namesake_counts(names.union(*blocks.values()), exclude_id=None)
    cap = candidate_queries.NAMESAKE_COUNT_CAP
    monikers = {w: min(cap, sum(counts[k] for k in block)) for w, block in blocks.items()}
    return sorted(
        o.id
        for o in found
        if compare_targets(record, o.record, namesakes=counts, monikers=monikers) is not None
    )


def agreement(targets: list[NewTarget], found: list[list[int]]) -> dict[str, Any]:
    """How the check's hits (``found``, per new target) compare with ``reference_hits``: the
    targets where both agree, and the hits the check missed or added (all of them 0 when
    its shortcuts lose nothing)."""
    reference = [reference_hits(t) for t in targets]
    db.session.remove()
    missed = sum(len(set(r) - set(f)) for r, f in zip(reference, found, strict=True))
    extra = sum(len(set(f) - set(r)) for r, f in zip(reference, found, strict=True))
    same = sum(1 for r, f in zip(reference, found, strict=True) if r == f)
    if missed or extra:
        progress(f"  reference: {missed} hits missed, {extra} added by the check")
    return {
        "reference_same_targets": same,
        "reference_hits": sum(len(r) for r in reference),
        "reference_missed": missed,
        "reference_extra": extra,
    }


@contextmanager
def full_scans() -> Iterator[None]:
    """``event_hits`` and ``target_hits`` as they are, over the full-scan candidate queries."""
    saved = candidate_queries.operation_candidates, candidate_queries.target_candidates
    candidate_queries.operation_candidates = full_scan_operation_candidates
    candidate_queries.target_candidates = full_scan_target_candidates
    try:
        yield
    finally:
        candidate_queries.operation_candidates, candidate_queries.target_candidates = saved


# --- timing ----------------------------------------------------------------------------------


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds of one check, in a session of its own (as one request has)."""
    start = time.perf_counter()
    result = action()
    elapsed = (time.perf_counter() - start) * 1000
    db.session.remove()
    return elapsed, result


def check_target(item: NewTarget) -> list[int]:
    hits = target_hits(item.record, target_id=None, agency_id=item.agency_id, case_id=item.case_id)
    return sorted(h.key[1] for h in hits)


def check_operation(item: NewOperation) -> list[int]:
    hits = event_hits(item.draft, event_id=None, agency_id=item.draft.owner_agency_id)
    return sorted(h.key[1] for h in hits or [])


def candidates(targets: list[NewTarget], operations: list[NewOperation]) -> dict[str, Any]:
    """How many rows the indexes hand the rules, per new item (not timed)."""
    per_target = [
        len(
            candidate_queries.target_candidates(
                target_probe_keys(t.record),
                exclude_id=None,
                agency_id=t.agency_id,
                case_id=t.case_id,
            )
        )
        for t in targets
    ]
    per_operation = []
    for o in operations:
        record = rule_records.operation_record(o.draft, "draft", o.draft.owner_agency_id)
        assert record is not None
        per_operation.append(
            len(
                candidate_queries.operation_candidates(
                    record,
                    exclude_id=None,
                    agency_id=o.draft.owner_agency_id,
                    case_id=o.draft.case_id,
                )
            )
        )
    db.session.remove()
    return {
        "target_candidates": figures([float(n) for n in per_target], with_max=True),
        "operation_candidates": figures([float(n) for n in per_operation], with_max=True),
    }


def measure(
    targets: list[NewTarget], operations: list[NewOperation], baseline_runs: int
) -> dict[str, Any]:
    # warm up: the statement cache, the page cache, the nickname and name-key caches
    for t, o in zip(targets[:5], operations[:5], strict=True):
        timed(partial(check_target, t))
        timed(partial(check_operation, o))
    target_ms: list[float] = []
    operation_ms: list[float] = []
    target_found: list[list[int]] = []
    operation_found: list[list[int]] = []
    for t, o in zip(targets, operations, strict=True):
        ms, found = timed(partial(check_target, t))
        target_ms.append(ms)
        target_found.append(found)
        ms, found = timed(partial(check_operation, o))
        operation_ms.append(ms)
        operation_found.append(found)
    progress(
        f"  indexed: target median {statistics.median(target_ms):.2f} ms, "
        f"operation median {statistics.median(operation_ms):.2f} ms"
    )

    base_target_ms: list[float] = []
    base_operation_ms: list[float] = []
    with full_scans():
        timed(partial(check_target, targets[-1]))  # the same warm-up, once: it is slow
        timed(partial(check_operation, operations[-1]))
        for n, (t, o) in enumerate(zip(targets[:baseline_runs], operations, strict=False)):
            ms, found = timed(partial(check_target, t))
            assert found == target_found[n], ("target", n, found, target_found[n])
            base_target_ms.append(ms)
            ms, found = timed(partial(check_operation, o))
            assert found == operation_found[n], ("operation", n, found, operation_found[n])
            base_operation_ms.append(ms)
            progress(
                f"  full scan {n + 1}/{baseline_runs}: {base_target_ms[-1]:.0f} ms, {ms:.0f} ms"
            )

    return {
        **agreement(targets, target_found),
        "target_check_ms": figures(target_ms, with_max=True),
        "operation_check_ms": figures(operation_ms, with_max=True),
        "baseline_full_scan_target_ms": figures(base_target_ms, with_max=True),
        "baseline_full_scan_operation_ms": figures(base_operation_ms, with_max=True),
        "target_speedup": round(
            statistics.median(base_target_ms) / statistics.median(target_ms), 1
        ),
        "operation_speedup": round(
            statistics.median(base_operation_ms) / statistics.median(operation_ms), 1
        ),
        "targets_with_hits": round(sum(1 for f in target_found if f) / len(target_found), 3),
        "operations_with_hits": round(
            sum(1 for f in operation_found if f) / len(operation_found), 3
        ),
    }


# --- one backend -----------------------------------------------------------------------------


@dataclass
class Built:
    """What building the data left behind for the measurements (kept beside a kept database)."""

    directory: Directory
    people: People
    stored: list[Stored]
    counts: tuple[int, int, int]  # targets, identifiers, keys
    build_s: float
    rules: str  # the fingerprint of deconflict/ the keys were computed with


def _rules_fingerprint(sample: int = 3000) -> str:
    """Changes whenever the keys the app stores for a target do: a digest of the keys of a
    fixed sample of synthetic targets under the code this process imported. A change that
    leaves every stored key as it was (how keys are looked up, how matches are scored) keeps
    a kept database, which takes a quarter of an hour to re-key at a million identifiers."""
    people = People(random.Random(1))
    digest = hashlib.sha256()
    for n in range(sample):
        person = people.person()
        values = people.identifiers(person)
        row = Target(
            id=n,
            ref=str(n),
            case_id=1,
            first_name=person.first,
            last_name=person.last,
            aliases=list(person.aliases),
            dob=person.dob,
        )
        row.identifiers = [
            TargetIdentifier(kind=kind, raw=raw, normalized=value) for kind, raw, value in values
        ]
        digest.update("\n".join(sorted(target_keys(target_record(row)))).encode())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


RULES = _rules_fingerprint()  # of the code this process imported


def build(backend: str, args: argparse.Namespace) -> Built:
    started = time.perf_counter()
    directory = seed_directory()
    people = People(random.Random(args.seed))  # the same data on every backend
    progress(f"[{backend}] loading {args.targets:,} identifiers, {args.events:,} events")
    counts = load_targets(directory, people, args.targets)
    stored = load_events(directory, people, args.events)
    finish_load(backend)
    return Built(directory, people, stored, counts, time.perf_counter() - started, RULES)


@contextmanager
def bench_database(backend: str, args: argparse.Namespace) -> Iterator[tuple[str, Path | None]]:
    """A throw-away database, or with ``--keep`` one kept (and its ``Built`` file) for reuse."""
    if args.keep is None:
        with database(backend) as url:
            yield url, None
        return
    name = f"jointops_bench_deconflict_{args.targets}_{args.events}_{args.seed}"
    state = args.keep / f"{name}.{backend}.pickle"
    url, existed = kept_database(backend, name, args.keep)
    if existed and not state.exists():  # a build that did not finish
        drop_kept_database(backend, name, args.keep)
        url, _ = kept_database(backend, name, args.keep)
    yield url, state


def prepared(backend: str, args: argparse.Namespace, state: Path | None) -> Built:
    """Build the data, or take a kept build, with its keys recomputed if the rules changed."""
    started = time.perf_counter()
    upgrade()
    if state is not None and state.exists():
        progress(f"[{backend}] migrations took {time.perf_counter() - started:.0f} s")
    if state is None or not state.exists():
        built = build(backend, args)
        if state is not None:
            state.write_bytes(pickle.dumps(built))
        return built
    built = cast(Built, pickle.loads(state.read_bytes()))  # noqa: S301 - this bench wrote it
    progress(f"[{backend}] reusing the database kept in {args.keep}")
    if built.rules != RULES:
        started = time.perf_counter()
        with db.engine.begin() as conn:
            keys = rebuild_keys(conn)
        finish_load(backend)
        took = time.perf_counter() - started
        progress(f"[{backend}] rules changed: {keys:,} keys rebuilt in {took:.0f} s")
        built.counts = (built.counts[0], built.counts[1], keys)
        built.rules = RULES
        state.write_bytes(pickle.dumps(built))
    return built


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    with bench_database(backend, args) as (url, state):
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key", "TESTING": True}
        )
        with app.app_context():
            built = prepared(backend, args, state)
            progress(f"[{backend}] built in {built.build_s:.0f} s; measuring")
            people = built.people
            people.rng = random.Random(args.seed + 1)  # the same new items, kept or not
            targets = new_targets(built.directory, people, args.runs)
            operations = new_operations(built.directory, people, built.stored, args.runs)
            counts = candidates(targets, operations)
            load = os.getloadavg()[0]
            result = measure(targets, operations, min(args.baseline_runs, args.runs))
            load = max(load, os.getloadavg()[0])
            db.session.remove()
            db.engine.dispose()
    n_targets, n_identifiers, n_keys = built.counts
    return {
        "bench": "deconflict",
        "backend": backend,
        "identifiers": n_identifiers,
        "targets": n_targets,
        "target_keys": n_keys,
        "events": args.events,
        "runs": args.runs,
        "baseline_runs": min(args.baseline_runs, args.runs),
        "build_s": round(built.build_s, 1),
        **result,
        **counts,
        # other work on the machine slows every figure: the higher 1-minute load average seen
        "load_average": round(load, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=1_000_000, help="identifiers stored")
    parser.add_argument("--events", type=int, default=1_000_000, help="operations stored")
    parser.add_argument("--runs", type=int, default=200, help="new items checked through indexes")
    parser.add_argument("--baseline-runs", type=int, default=5, help="of those, by full scan")
    add_backend_argument(parser)
    parser.add_argument("--seed", type=int, default=5546)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the built databases (SQLite files in DIR, PostgreSQL databases) and reuse "
        "them on the next run with the same sizes and seed; keys are rebuilt if the rules changed",
    )
    args = parser.parse_args()
    for name in backends(args.backend):
        print(json.dumps(run(name, args)), flush=True)


if __name__ == "__main__":
    main()
