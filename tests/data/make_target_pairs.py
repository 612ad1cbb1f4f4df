"""Generate tests/data/target_pairs.jsonl: a labelled set of target-record pairs.

Run ``python tests/data/make_target_pairs.py`` to regenerate it (the seed is
fixed, so the output is the same every time). Every pair is built from one or
two synthetic people (names drawn from the populations a South Florida task
force meets: Anglo, Hispanic, Haitian, Vietnamese, Russian, Arabic), with
raw identifiers written the ways people write them. ``label`` is true when
the two records are the same person, as a person reading both would judge;
``category`` says which hard case the pair exercises. ``namesakes``, where a
pair has it, is how many stored targets the app would count under the more
common of the two names (a name alone is damped by it).

Decided here: the same main number with two different extensions is two
desks behind one switchboard, two people (``switchboard_other_extension``);
a VIN whose check digit does not match still matches itself exactly.

This script does not import the library under test: the variants it writes
(nicknames, transliterations, typos, formats) come from its own tables, so
the evaluation measures the library, not a copy of its rules.
"""

from __future__ import annotations

import json
import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

SEED = 20260501
OUT = Path(__file__).with_name("target_pairs.jsonl")

NamePool = list[tuple[str, list[str]]]

# name, its everyday short forms
MALE: NamePool = [
    ("Robert", ["Bob", "Rob", "Bobby"]),
    ("William", ["Bill", "Will", "Billy"]),
    ("James", ["Jim", "Jimmy"]),
    ("John", ["Johnny", "Jack"]),
    ("Michael", ["Mike", "Mikey"]),
    ("Richard", ["Rick", "Rich", "Dick"]),
    ("Joseph", ["Joe", "Joey"]),
    ("Thomas", ["Tom", "Tommy"]),
    ("Charles", ["Charlie", "Chuck"]),
    ("Christopher", ["Chris"]),
    ("Daniel", ["Dan", "Danny"]),
    ("Anthony", ["Tony"]),
    ("Edward", ["Ed", "Eddie"]),
    ("Kenneth", ["Ken", "Kenny"]),
    ("Steven", ["Steve"]),
    ("Andrew", ["Andy", "Drew"]),
    ("Joshua", ["Josh"]),
    ("Nicholas", ["Nick"]),
    ("Jonathan", ["Jon"]),
    ("Benjamin", ["Ben"]),
    ("Timothy", ["Tim"]),
    ("Matthew", ["Matt"]),
    ("Gregory", ["Greg"]),
    ("Raymond", ["Ray"]),
    ("Lawrence", ["Larry"]),
    ("Terrence", ["Terry"]),
    ("Marcus", []),
    ("Darnell", []),
    ("Tyrone", []),
    ("Dwayne", []),
]
FEMALE: NamePool = [
    ("Elizabeth", ["Liz", "Beth", "Betsy"]),
    ("Margaret", ["Maggie", "Peggy"]),
    ("Jennifer", ["Jenny", "Jen"]),
    ("Patricia", ["Patty", "Trish"]),
    ("Katherine", ["Kathy", "Katie"]),
    ("Rebecca", ["Becky"]),
    ("Deborah", ["Debbie", "Deb"]),
    ("Victoria", ["Vicky", "Tori"]),
    ("Stephanie", ["Steph"]),
    ("Jessica", ["Jess", "Jessie"]),
    ("Samantha", ["Sam"]),
    ("Christina", ["Chris", "Tina"]),
    ("Ashley", []),
    ("Brittany", []),
    ("Tamika", []),
    ("Latoya", []),
]
HISPANIC_MALE: NamePool = [
    ("José", ["Pepe"]),
    ("Francisco", ["Paco", "Pancho"]),
    ("Jesús", ["Chuy"]),
    ("Eduardo", ["Lalo"]),
    ("Guillermo", ["Memo"]),
    ("Ignacio", ["Nacho"]),
    ("Alejandro", ["Alex"]),
    ("Manuel", ["Manolo"]),
    ("Juan", []),
    ("Luis", []),
    ("Carlos", []),
    ("Miguel", []),
    ("Jorge", []),
    ("Ramón", []),
    ("Andrés", []),
    ("Héctor", []),
]
HISPANIC_FEMALE: NamePool = [
    ("María", []),
    ("Guadalupe", ["Lupe"]),
    ("Dolores", ["Lola"]),
    ("Rosario", ["Charo"]),
    ("Ana", []),
    ("Sofía", []),
    ("Lucía", []),
    ("Mónica", []),
    ("Yesenia", []),
    ("Beatriz", []),
]
HAITIAN_MALE: NamePool = [
    ("Jean", []),
    ("Wilner", []),
    ("Frantz", []),
    ("Jean-Baptiste", []),
    ("Wesner", []),
]
HAITIAN_FEMALE: NamePool = [
    ("Marie", []),
    ("Fabiola", []),
    ("Nadège", []),
    ("Guerline", []),
    ("Roselande", []),
]
RUSSIAN_MALE: NamePool = [
    ("Aleksandr", ["Sasha"]),
    ("Dmitriy", ["Dima"]),
    ("Sergey", ["Seryozha"]),
    ("Mikhail", ["Misha"]),
    ("Yevgeny", ["Zhenya"]),
    ("Ivan", ["Vanya"]),
]
RUSSIAN_FEMALE: NamePool = [
    ("Natalya", ["Natasha"]),
    ("Yekaterina", ["Katya"]),
    ("Tatyana", ["Tanya"]),
    ("Olga", ["Olya"]),
    ("Svetlana", ["Sveta"]),
]
ARABIC_MALE: NamePool = [
    ("Mohammed", []),
    ("Ahmed", []),
    ("Youssef", []),
    ("Khaled", []),
    ("Omar", []),
]
VIETNAMESE: NamePool = [
    ("Anh", []),
    ("Minh", []),
    ("Hùng", []),
    ("Thảo", []),
    ("Linh", []),
    ("Tuấn", []),
]

ANGLO_LAST = (
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore Jackson "
    "White Harris Martin Thompson Robinson Clark Lewis Walker Hall Young Allen King Wright "
    "Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans "
    "Turner Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Cooper Bailey "
    "Reed Kelly Howard Richardson Ward Brooks Watson Sanders Bennett Gray Hughes Price "
    "Foster Powell Jenkins Perry Russell Sullivan Coleman Butler Henderson Barnes Fisher "
    "Whitfield McAllister O'Connor Kowalski Lindqvist Pemberton Haskins Thibodeaux"
).split()
HISPANIC_LAST = (
    "García Rodríguez Martínez Hernández López González Pérez Sánchez Ramírez Torres Flores "
    "Rivera Gómez Díaz Cruz Morales Reyes Gutiérrez Ortiz Jiménez Muñoz Peña Castillo Vargas "
    "Ramos Herrera Medina Aguilar Castro Vásquez Mendoza Salazar Figueroa Domínguez"
).split()
HAITIAN_LAST = (
    "Pierre Joseph Charles Jean-Louis Baptiste Désir Toussaint Dorvil Étienne Augustin".split()
)
VIETNAMESE_LAST = "Nguyễn Trần Lê Phạm Hoàng Vũ Đặng Bùi".split()
ARABIC_LAST = "Haddad Abdullah Hussein Mansour Khalil Saleh Nasser Hamdan".split()
# Russian people, with the Cyrillic spelling some records keep
RUSSIAN_LAST = {
    "Ivanov": "Иванов",
    "Smirnov": "Смирнов",
    "Petrov": "Петров",
    "Volkov": "Волков",
    "Sokolov": "Соколов",
    "Morozov": "Морозов",
    "Kozlov": "Козлов",
    "Popov": "Попов",
}
RUSSIAN_FIRST_CYRILLIC = {
    "Aleksandr": "Александр",
    "Dmitriy": "Дмитрий",
    "Sergey": "Сергей",
    "Mikhail": "Михаил",
    "Yevgeny": "Евгений",
    "Ivan": "Иван",
    "Natalya": "Наталья",
    "Yekaterina": "Екатерина",
    "Tatyana": "Татьяна",
    "Olga": "Ольга",
    "Svetlana": "Светлана",
}
# Other romanisations of one name (BGN/PCGN, passport, French, English habits)
TRANSLITERATIONS = {
    "Aleksandr": ["Alexander", "Alexandr"],
    "Dmitriy": ["Dmitry", "Dmitri"],
    "Sergey": ["Sergei"],
    "Mikhail": ["Mikhael"],
    "Yevgeny": ["Evgeny", "Evgeniy"],
    "Natalya": ["Natalia", "Natalija"],
    "Yekaterina": ["Ekaterina"],
    "Tatyana": ["Tatiana"],
    "Mohammed": ["Muhammad", "Mohamed", "Mohammad"],
    "Ahmed": ["Ahmad"],
    "Youssef": ["Yusuf", "Youssif"],
    "Khaled": ["Khalid"],
    "Omar": ["Umar"],
    "Hussein": ["Husain", "Hussain"],
    "Abdullah": ["Abdallah"],
    "Mansour": ["Mansur"],
    "Saleh": ["Salih"],
    "Nasser": ["Naser"],
    "Ivanov": ["Ivanoff"],
    "Volkov": ["Volkoff"],
}
# Brother and sister names, close in spelling
GENDER_PAIRS = [
    ("Mario", "Maria"),
    ("Daniel", "Danielle"),
    ("Antonio", "Antonia"),
    ("Gabriel", "Gabriela"),
    ("Francisco", "Francisca"),
    ("Julio", "Julia"),
    ("Paul", "Paula"),
    ("Eric", "Erica"),
    ("Roberto", "Roberta"),
    ("Christian", "Christina"),
    ("Adriano", "Adriana"),
    ("Fernando", "Fernanda"),
]
COMMON_NAMES = [
    ("John", "Smith"),
    ("Maria", "Garcia"),
    ("Michael", "Johnson"),
    ("José", "Rodríguez"),
    ("James", "Williams"),
    ("Maria", "Hernández"),
    ("David", "Brown"),
    ("Juan", "Martínez"),
    ("Robert", "Jones"),
    ("Jennifer", "Davis"),
    ("Jean", "Pierre"),
    ("Anh", "Nguyễn"),
    ("Mohammed", "Hussein"),
    ("Ashley", "Williams"),
]
STREETS = [
    ("Main", "Street", "St"),
    ("Okeechobee", "Boulevard", "Blvd"),
    ("Dixie", "Highway", "Hwy"),
    ("Palm", "Avenue", "Ave"),
    ("Lake", "Drive", "Dr"),
    ("Banyan", "Court", "Ct"),
    ("Clematis", "Street", "St"),
    ("Australian", "Avenue", "Ave"),
    ("Congress", "Avenue", "Ave"),
    ("Military", "Trail", "Trl"),
    ("Belvedere", "Road", "Rd"),
    ("Forest Hill", "Boulevard", "Blvd"),
    ("Lantana", "Road", "Rd"),
    ("Seacrest", "Boulevard", "Blvd"),
    ("Ocean", "Avenue", "Ave"),
    ("Hypoluxo", "Road", "Rd"),
    ("Oak", "Lane", "Ln"),
    ("Cypress", "Circle", "Cir"),
    ("Royal Palm", "Way", "Way"),
    ("Garden", "Place", "Pl"),
]
DIRECTIONS = [("North", "N"), ("South", "S"), ("East", "E"), ("West", "W"), ("", "")]
CITIES = [
    ("West Palm Beach", "33401"),
    ("West Palm Beach", "33407"),
    ("Lake Worth Beach", "33460"),
    ("Boynton Beach", "33435"),
    ("Riviera Beach", "33404"),
    ("Delray Beach", "33444"),
    ("Belle Glade", "33430"),
    ("Jupiter", "33458"),
    ("Greenacres", "33463"),
    ("Boca Raton", "33432"),
]
AREA_CODES = ["561", "954", "305", "772", "786", "407", "863", "813"]
MAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com", "hotmail.com"]
PLATFORMS = ["instagram", "snapchat", "tiktok", "x", "telegram", "facebook"]
PLATFORM_SPELLINGS = {
    "instagram": ["instagram", "Instagram", "IG", "insta"],
    "snapchat": ["snapchat", "Snap", "SC"],
    "tiktok": ["tiktok", "TikTok"],
    "x": ["twitter", "X", "Twitter"],
    "telegram": ["telegram", "TG"],
    "facebook": ["facebook", "FB"],
}
PROFILE_URLS = {
    "instagram": "https://www.instagram.com/{}/",
    "tiktok": "https://www.tiktok.com/@{}",
    "x": "https://x.com/{}",
    "telegram": "https://t.me/{}",
    "facebook": "https://www.facebook.com/{}",
}
BUSINESSES = [
    "Golden Lotus Spa",
    "Happy Feet Massage",
    "Lucky Star Nails",
    "Sunrise Staffing",
    "Palm Coast Cleaning Services",
    "Blue Orchid Bodywork",
    "Tropical Nights Lounge",
    "Atlantic Farm Labor",
]
LEGAL = ["LLC", "L.L.C.", "Inc.", "Inc", "Corp.", "Co.", ", LLC", ", Inc."]
# World manufacturer prefixes and model descriptors (positions 1-8) of common vehicles
VIN_MODELS = ["1HGCM826", "1FTFW1ET", "2T1BURHE", "5YJSA1E2", "1G1ZD5ST", "3N1AB7AP", "JTDKN3DU"]
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
MONIKERS = ["Lil Bit", "Snoop", "Kingpin", "Red", "Smoke", "Boss Lady", "Tiny", "Chino", "Flaco"]

# Two spellings of one feminine name (French and English habits), and brother-sister pairs
FEMININE_SPELLINGS = [
    ("Danielle", "Daniele"),
    ("Michelle", "Michele"),
    ("Gabrielle", "Gabriele"),
    ("Annette", "Anette"),
    ("Jeanne", "Jeane"),
    ("Isabelle", "Isabele"),
    ("Suzanne", "Suzane"),
    ("Yvonne", "Yvone"),
    ("Corinne", "Corine"),
    ("Colette", "Collette"),
    ("Lynette", "Lynnette"),
    ("Estelle", "Estele"),
    ("Rachelle", "Rachele"),
    ("Mireille", "Mireile"),
]
FRENCH_GENDER_PAIRS = [
    ("Daniel", "Danielle"),
    ("Jean", "Jeanne"),
    ("Louis", "Louise"),
    ("Michel", "Michelle"),
    ("Gabriel", "Gabrielle"),
    ("Yvon", "Yvonne"),
    ("Simon", "Simone"),
    ("Noel", "Noelle"),
    ("Marcel", "Marcelle"),
    ("Emmanuel", "Emmanuelle"),
    ("Pascal", "Pascale"),
    ("Fabien", "Fabienne"),
    ("Julien", "Julienne"),
    ("Lucien", "Lucienne"),
]
# German and Yiddish surnames and the forms English records give them
ANGLICISED = [
    ("Schneider", "Snyder"),
    ("Schneider", "Snider"),
    ("Schmidt", "Smith"),
    ("Schmitt", "Smith"),
    ("Schwartz", "Swartz"),
    ("Schwartz", "Shwartz"),
    ("Schwarz", "Swartz"),
    ("Schreiber", "Shriver"),
    ("Schumacher", "Shoemaker"),
    ("Schaefer", "Shafer"),
    ("Schulman", "Shulman"),
    ("Schlesinger", "Slesinger"),
    ("Schnell", "Snell"),
    ("Schreiner", "Shriner"),
    ("Weber", "Weaver"),
    ("Huber", "Hoover"),
]
GERMAN_FIRST = ["Karl", "Hans", "Friedrich", "Anna", "Greta", "Ruth", "David", "Miriam", "Paul"]
# Chinese surnames in Pinyin, and as other agencies write them: Wade-Giles (Taiwan, older
# records), Cantonese (Hong Kong), Hokkien (Singapore, Malaysia)
CHINESE_SURNAMES = {
    "Zhang": ["Chang", "Cheung"],
    "Zhou": ["Chou", "Chow"],
    "Xu": ["Hsu", "Hui"],
    "Qian": ["Chien"],
    "Cao": ["Tsao"],
    "Cai": ["Tsai", "Choi"],
    "Jiang": ["Chiang"],
    "Zheng": ["Cheng"],
    "Liu": ["Liu", "Lau"],
    "Guo": ["Kuo", "Kwok"],
    "Huang": ["Hwang", "Wong"],
    "Wu": ["Wu", "Ng"],
    "Chen": ["Chen", "Chan"],
    "Li": ["Lee", "Lei"],
    "Wang": ["Wong"],
    "Yang": ["Yeung"],
    "Zhao": ["Chao", "Chiu"],
    "Lin": ["Lam", "Lim"],
    "Gao": ["Kao"],
    "Liang": ["Leung"],
    "Xie": ["Hsieh", "Tse"],
    "Song": ["Sung"],
    "Deng": ["Teng"],
    "Xiao": ["Hsiao", "Siu"],
    "Zhu": ["Chu"],
    "Luo": ["Lo", "Law"],
}
# Two Pinyin surnames one letter apart: two families
CHINESE_OTHER_SURNAMES = [
    ("Chen", "Cheng"),
    ("Zhou", "Zhao"),
    ("Wang", "Huang"),
    ("Liu", "Liao"),
    ("Lin", "Li"),
    ("Chan", "Chang"),
    ("Zhu", "Zhou"),
    ("Tang", "Tan"),
    ("Xie", "Xue"),
    ("Zhang", "Zhan"),
]
# Given-name syllables: Pinyin, Wade-Giles
CHINESE_SYLLABLES = {
    "xiao": "hsiao",
    "jian": "chien",
    "zhi": "chih",
    "qing": "ching",
    "wei": "wei",
    "ming": "ming",
    "hua": "hua",
    "jun": "chun",
    "hong": "hung",
    "guo": "kuo",
    "qiang": "chiang",
    "xin": "hsin",
    "zhong": "chung",
    "jie": "chieh",
    "xiu": "hsiu",
    "ying": "ying",
    "mei": "mei",
    "jing": "ching",
    "yong": "yung",
    "de": "te",
    "bo": "po",
    "zi": "tzu",
    "xue": "hsueh",
    "rong": "jung",
    "dong": "tung",
    "gang": "kang",
}
# Unit designators and directionals as forms and people write them
UNIT_FORMS = [
    "Apt {}",
    "Apartment {}",
    "Apt. {}",
    "Apt #{}",
    "Unit {}",
    "Unit #{}",
    "#{}",
    "# {}",
    "Ste {}",
    "Suite {}",
    "Rm {}",
    "Room {}",
    "No. {}",
    "Apt{}",
]
DIRECTIONAL_FORMS = {
    "N": ["N", "N.", "North"],
    "S": ["S", "S.", "South"],
    "E": ["E", "E.", "East"],
    "W": ["W", "W.", "West"],
    "NE": ["NE", "N.E.", "Northeast", "North East", "N E"],
    "NW": ["NW", "N.W.", "Northwest", "North West"],
    "SE": ["SE", "S.E.", "Southeast", "South East"],
    "SW": ["SW", "S.W.", "Southwest", "South West"],
}
# Foreign numbers as dialled from the US (011), from Europe (00) or written with +; the
# mobile digit Mexico (1) and Argentina (9) put after the country code, written or not
FOREIGN_PHONES = {
    "MX": ("52", "55", 8, "1"),
    "AR": ("54", "11", 8, "9"),
    "GT": ("502", "5", 7, ""),
    "HT": ("509", "3", 7, ""),
    "FR": ("33", "6", 8, ""),
    "CO": ("57", "31", 8, ""),
}
EXTENSION_FORMS = ["ext {}", "ext. {}", "x{}", "x {}", "#{}", ", ext {}", "Ext: {}", "extension {}"]


@dataclass
class Person:
    first: str
    last: str
    nicknames: list[str]
    dob: date
    phone: str  # ten digits
    email: str
    plate: str
    vin: str
    street: tuple[str, str, str, str]  # number, direction, name, suffix
    unit: str
    city: tuple[str, str]
    handle: tuple[str, str]
    aliases: list[str] = field(default_factory=list)
    culture: str = ""
    male: bool = True


@dataclass
class Record:
    first: str
    last: str
    dob: str | None
    aliases: list[str] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self, ref: str, agency: str) -> dict[str, object]:
        return {
            "ref": ref,
            "agency": agency,
            "first": self.first,
            "last": self.last,
            "aliases": self.aliases,
            "dob": self.dob,
            "identifiers": [{"kind": k, "value": v} for k, v in self.identifiers],
        }


class Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_phones: set[str] = set()
        self.used_plates: set[str] = set()
        self.more_phones = False

    # -- people --------------------------------------------------------------

    def culture_names(self, culture: str, male: bool) -> tuple[tuple[str, list[str]], str]:
        r = self.rng
        match culture:
            case "anglo":
                return r.choice(MALE if male else FEMALE), r.choice(ANGLO_LAST)
            case "hispanic":
                pool = HISPANIC_MALE if male else HISPANIC_FEMALE
                last = r.choice(HISPANIC_LAST)
                if r.random() < 0.3:
                    last = f"{last} {r.choice(HISPANIC_LAST)}"
                return r.choice(pool), last
            case "haitian":
                return r.choice(HAITIAN_MALE if male else HAITIAN_FEMALE), r.choice(HAITIAN_LAST)
            case "vietnamese":
                return r.choice(VIETNAMESE), r.choice(VIETNAMESE_LAST)
            case "russian":
                pool = RUSSIAN_MALE if male else RUSSIAN_FEMALE
                last = r.choice(list(RUSSIAN_LAST))
                return r.choice(pool), last if male else f"{last}a"
            case _:  # "arabic": men only in these tables
                return r.choice(ARABIC_MALE), r.choice(ARABIC_LAST)

    def person(
        self, culture: str | None = None, *, last: str | None = None, male: bool | None = None
    ) -> Person:
        r = self.rng
        culture = culture or r.choice(
            ["anglo"] * 5 + ["hispanic"] * 4 + ["haitian", "vietnamese", "russian", "arabic"]
        )
        if culture == "arabic":
            male = True
        elif male is None:
            male = r.random() < 0.6
        (first, nicks), surname = self.culture_names(culture, male)
        surname = last or surname
        return Person(
            first=first,
            last=surname,
            nicknames=list(nicks),
            dob=self.dob(),
            phone=self.phone(),
            email=self.email(first, surname),
            plate=self.plate(),
            vin=self.vin(),
            street=self.street(),
            unit=r.choice(
                ["", "", "", str(r.randint(1, 30)), f"{r.randint(1, 9)}{r.choice('ABCD')}"]
            ),
            city=r.choice(CITIES),
            handle=(r.choice(PLATFORMS), self.handle(first, surname)),
            culture=culture,
            male=male,
        )

    def dob(self, *, not_near: date | None = None) -> date:
        while True:
            d = date(1965, 1, 1) + timedelta(days=self.rng.randint(0, 365 * 40))
            if not_near is None or (abs((d - not_near).days) > 400 and d.day != not_near.day):
                return d

    def phone(self) -> str:
        while True:
            # the later pairs draw from more numbers (the first ones are kept as they were)
            top = 999 if self.more_phones else 199
            number = f"{self.rng.choice(AREA_CODES)}5550{self.rng.randint(100, top)}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def email(self, first: str, last: str) -> str:
        r = self.rng
        f, la = ascii_word(first), ascii_word(last)
        local = r.choice([f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{la}.{f}"]) + str(
            r.randint(1, 99)
        )
        return f"{local}@{r.choice(MAIL_DOMAINS)}"

    def handle(self, first: str, last: str) -> str:
        r = self.rng
        f, la = ascii_word(first), ascii_word(last)
        return r.choice([f"{f}.{la}", f"{f}_{la}{r.randint(1, 99)}", f"real{f}{r.randint(10, 99)}"])

    def plate(self) -> str:
        r = self.rng
        while True:
            # Florida's formats; at least one O, 0, I or 1, where witnesses misread
            letters = "".join(r.choice("ABCDEFGHIJKLMNOPRSTUVWXYZ") for _ in range(3))
            digits = "".join(r.choice(string.digits) for _ in range(3))
            plate = r.choice(
                [f"{letters} {digits}", f"{digits} {letters}", f"{letters[:2]}{digits}"]
            )
            if set(plate) & set("O0I1") and plate not in self.used_plates:
                self.used_plates.add(plate)
                return plate

    def vin(self, model: str | None = None) -> str:
        r = self.rng
        body = (model or r.choice(VIN_MODELS)) + "0"
        body += r.choice("ABCDEFGHJKLMNPRSTVWXY123456789")  # model year
        body += r.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")  # plant
        body += "".join(r.choice(string.digits) for _ in range(6))  # serial
        check = sum(VIN_VALUES[c] * w for c, w in zip(body, VIN_WEIGHTS, strict=True)) % 11
        return body[:8] + ("X" if check == 10 else str(check)) + body[9:]

    def street(self) -> tuple[str, str, str, str]:
        r = self.rng
        name, suffix, _abbr = r.choice(STREETS)
        return str(r.randint(100, 9899)), r.choice(DIRECTIONS)[0], name, suffix

    # -- writing values --------------------------------------------------------

    def phone_text(self, digits: str) -> str:
        a, b, c = digits[:3], digits[3:6], digits[6:]
        return self.rng.choice(
            [
                f"({a}) {b}-{c}",
                f"{a}-{b}-{c}",
                f"{a}.{b}.{c}",
                f"+1 {a}.{b}.{c}",
                f"+1 ({a}) {b}-{c}",
                f"1{a}{b}{c}",
                f"{a}{b}{c}",
                f"{a} {b} {c}",
                f"+1{a}{b}{c}",
                f"1-{a}-{b}-{c}",
            ]
        )

    def plate_text(self, plate: str) -> str:
        body = plate.replace(" ", self.rng.choice([" ", "-", ""]))
        state = self.rng.choice(["FL", "fl", "Florida", "FL "])
        return f"{state}:{body if self.rng.random() < 0.7 else body.lower()}"

    def vin_text(self, vin: str) -> str:
        r = self.rng
        match r.randint(0, 2):
            case 0:
                return vin
            case 1:
                return vin.lower()
            case _:
                return f"{vin[:3]} {vin[3:9]} {vin[9:]}"

    def address_text(self, p: Person, *, unit: str | None = None) -> str:
        r = self.rng
        number, direction, name, suffix = p.street
        unit = p.unit if unit is None else unit
        abbr = next(s[2] for s in STREETS if s[1] == suffix)
        short_dir = next(d[1] for d in DIRECTIONS if d[0] == direction)
        if r.random() < 0.5:
            line = " ".join(x for x in (number, direction, name, suffix) if x)
            unit_text = f"Apartment {unit}" if unit else ""
            city, zip5 = p.city
            tail = f"{city}, Florida {zip5}"
        else:
            line = " ".join(x for x in (number, short_dir, name, r.choice([abbr, abbr + "."])) if x)
            unit_text = r.choice([f"Apt {unit}", f"#{unit}", f"Unit {unit}"]) if unit else ""
            city, zip5 = p.city
            tail = r.choice([f"{city} FL {zip5}", f"{city}, FL {zip5}-{r.randint(1000, 9999)}"])
        text = f"{line} {unit_text}".strip() + f", {tail}"
        return text.upper() if r.random() < 0.2 else text

    def email_variant(self, email: str) -> str:
        """The same mailbox written otherwise: case, and for Gmail dots and a +tag."""
        r = self.rng
        local, domain = email.split("@")
        if domain == "gmail.com":
            plain = local.replace(".", "")
            cut = r.randint(1, len(plain) - 1)
            local = r.choice(
                [
                    f"{plain[:cut]}.{plain[cut:]}",
                    f"{local}+{r.choice(['ads', 'work', 'backpage', 'x'])}",
                    plain,
                ]
            )
            domain = r.choice(["gmail.com", "googlemail.com", "Gmail.com"])
        elif domain in ("outlook.com", "icloud.com", "hotmail.com") and r.random() < 0.5:
            local = f"{local}+{r.choice(['promo', 'list'])}"
        return f"{local}@{domain}".upper() if r.random() < 0.3 else f"{local}@{domain}"

    def handle_text(self, platform: str, handle: str) -> str:
        r = self.rng
        if platform in PROFILE_URLS and r.random() < 0.4:
            return PROFILE_URLS[platform].format(handle)
        shown = handle if r.random() < 0.5 else handle.title()
        return f"{r.choice(PLATFORM_SPELLINGS[platform])}:{r.choice(['@', ''])}{shown}"

    def record(self, p: Person, *, dob: bool = True, kinds: tuple[str, ...] = ()) -> Record:
        """A record of ``p`` with the identifiers of ``kinds``, each written some way."""
        writers: dict[str, Callable[[], str]] = {
            "phone": lambda: self.phone_text(p.phone),
            "email": lambda: p.email,
            "plate": lambda: self.plate_text(p.plate),
            "vin": lambda: self.vin_text(p.vin),
            "address": lambda: self.address_text(p),
            "handle": lambda: self.handle_text(*p.handle),
        }
        return Record(
            first=p.first,
            last=p.last,
            dob=p.dob.isoformat() if dob else None,
            aliases=list(p.aliases),
            identifiers=[(k, writers[k]()) for k in kinds],
        )

    def some_kinds(self, *, without: tuple[str, ...] = ()) -> tuple[str, ...]:
        kinds = [k for k in ("phone", "email", "plate", "address", "handle") if k not in without]
        return tuple(self.rng.sample(kinds, self.rng.randint(0, 2)))

    # -- variants of names ------------------------------------------------------

    def typo(self, word: str) -> str:
        """One slip of the keyboard in the middle of a word: swap, drop, double or replace."""
        r = self.rng
        if len(word) < 5:
            return word
        i = r.randint(1, len(word) - 3)
        match r.randint(0, 3):
            case 0:
                return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            case 1:
                return word[:i] + word[i + 1 :]
            case 2:
                return word[:i] + word[i] + word[i:]
            case _:
                near = {
                    "a": "s",
                    "e": "r",
                    "i": "o",
                    "o": "i",
                    "n": "m",
                    "m": "n",
                    "r": "t",
                    "s": "d",
                }
                c = word[i].lower()
                return word[:i] + near.get(c, c) + word[i + 1 :]


def relative_of(m: Maker, p: Person, culture: str | None = None) -> Person:
    """Another person of ``p``'s family: the same last name, another first name and birthday."""
    q = m.person(culture or p.culture or None, last=p.last)
    while ascii_word(q.first)[:3] == ascii_word(p.first)[:3] or q.first in p.nicknames:
        q = m.person(culture or p.culture or None, last=p.last)
    q.dob = m.dob(not_near=p.dob)
    return q


def ascii_word(text: str) -> str:
    """A name as it goes into an e-mail address or a handle: ``"Nguyễn"`` -> ``"nguyen"``."""
    return "".join(c for c in strip_accents(text).lower() if c.isalpha() and c.isascii()) or "user"


def strip_accents(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in folded if not unicodedata.combining(c))


# -- the pairs ---------------------------------------------------------------------


def build() -> list[dict[str, object]]:
    m = Maker(SEED)
    r = m.rng
    pairs: list[dict[str, object]] = []

    def add(
        category: str, label: bool, a: Record, b: Record, note: str, namesakes: int | None = None
    ) -> None:
        """``namesakes``: how many stored targets share the more common of the two names (the
        app counts them); left out where it does not matter."""
        n = len(pairs) + 1
        pair: dict[str, object] = {
            "id": n,
            "category": category,
            "label": label,
            "note": note,
            "a": a.as_json(f"A{n:03d}", "PBSO"),
            "b": b.as_json(f"B{n:03d}", r.choice(["HSI", "FBI", "WPBPD", "FDLE", "BBPD"])),
        }
        if namesakes is not None:
            pair["namesakes"] = namesakes
        pairs.append(pair)

    # ---------------- the same person ----------------

    for _ in range(14):
        p = m.person()
        a = m.record(p, kinds=("phone", *m.some_kinds(without=("phone",))))
        b = m.record(p, dob=r.random() < 0.5, kinds=("phone",))
        if p.nicknames and r.random() < 0.5:
            b.first = r.choice(p.nicknames)
        add("phone_format", True, a, b, "one phone written two ways")

    for _ in range(12):
        p = m.person()
        a = m.record(p, kinds=("email",))
        b = m.record(p, dob=r.random() < 0.5, kinds=m.some_kinds(without=("email",)))
        b.identifiers.append(("email", m.email_variant(p.email)))
        add("email_variant", True, a, b, "one mailbox: case, dots or +tag")

    for _ in range(10):
        p = m.person()
        a = m.record(p, kinds=("handle",))
        b = m.record(p, dob=False, kinds=("handle",))
        add("handle_variant", True, a, b, "one account: platform alias, @, URL, case")

    for _ in range(10):
        p = m.person()
        a = m.record(p, kinds=("vin",))
        b = m.record(p, dob=r.random() < 0.5, kinds=("vin",))
        add("vin_format", True, a, b, "one vehicle: VIN written two ways")

    for _ in range(12):
        p = m.person()
        a = m.record(p, dob=r.random() < 0.5, kinds=("plate",))
        b = m.record(p, dob=False)
        plate = p.plate
        swap = {"O": "0", "0": "O", "I": "1", "1": "I"}
        positions = [i for i, c in enumerate(plate) if c in swap]
        i = r.choice(positions)
        b.identifiers.append(("plate", f"FL:{plate[:i]}{swap[plate[i]]}{plate[i + 1 :]}"))
        if p.nicknames and r.random() < 0.4:
            b.first = r.choice(p.nicknames)
        add("plate_o0", True, a, b, "one vehicle, plate read with O/0 or I/1 confused")

    nick_people = [p for p in (m.person() for _ in range(200)) if p.nicknames]
    for p in nick_people[:16]:
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.first = r.choice(p.nicknames)
        if r.random() < 0.5:
            a, b = b, a
        add("nickname", True, a, b, "nickname, same date of birth")

    for _ in range(16):
        p = m.person()
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        if r.random() < 0.6:
            b.last = m.typo(p.last)
        else:
            b.first = m.typo(p.first)
        if (b.first, b.last) == (a.first, a.last):
            b.last = m.typo(p.last + "s")
        add("typo", True, a, b, "one typing slip in a name, same date of birth")

    for _ in range(8):
        p = m.person("hispanic")
        while strip_accents(p.first + p.last) == p.first + p.last:
            p = m.person(r.choice(["hispanic", "vietnamese"]))
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.first, b.last = strip_accents(p.first), strip_accents(p.last)
        add("accents", True, a, b, "accents dropped, same date of birth")

    for _ in range(14):
        p = m.person(r.choice(["russian", "arabic"]))
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        if p.culture == "russian" and r.random() < 0.4:
            male_last = p.last.removesuffix("a")
            cyr = RUSSIAN_LAST[male_last] + ("а" if p.last.endswith("a") else "")
            b.first, b.last = RUSSIAN_FIRST_CYRILLIC[p.first], cyr
            note = "Cyrillic and Latin spellings, same date of birth"
        else:
            options = [(w, TRANSLITERATIONS[w]) for w in (p.first, p.last) if w in TRANSLITERATIONS]
            if not options:
                options = [(p.first, [p.first])]
            word, spellings = r.choice(options)
            other = r.choice(spellings)
            if word == p.first:
                b.first = other
            else:
                b.last = other
            note = "another romanisation, same date of birth"
        add("transliteration", True, a, b, note)

    for _ in range(14):
        p = m.person()
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.first, b.last = p.last, p.first
        add("swapped", True, a, b, "first and last names swapped, same date of birth")

    for _ in range(12):
        p = m.person()
        q = m.person(male=p.male)  # a false name is one of the person's own sex
        alias_kind = r.random()
        if alias_kind < 0.4:
            p.aliases = [f"{q.first} {q.last}"]  # a false name used on another arrest
            b_first, b_last = q.first, q.last
        elif alias_kind < 0.7:
            p.aliases = [r.choice(MONIKERS)]  # a street name, on a record under another name
            b_first, b_last = q.first, q.last
        else:
            p.aliases = [f"{p.first} {q.last}"]  # a married or maiden name
            b_first, b_last = p.first, q.last
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.first, b.last = b_first, b_last
        b.aliases = list(p.aliases) if alias_kind >= 0.4 and alias_kind < 0.7 else []
        add("alias", True, a, b, "known by an alias the other record names, same date of birth")

    for _ in range(10):
        p = m.person()
        while p.dob.day > 12 or p.dob.day == p.dob.month:
            p.dob = m.dob()
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.dob = date(p.dob.year, p.dob.day, p.dob.month).isoformat()
        add("dob_transposed", True, a, b, "day and month of birth transposed")

    for _ in range(10):
        p = m.person()
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.dob = p.dob.replace(year=p.dob.year + r.choice([-1, 1])).isoformat()
        add("dob_year_off", True, a, b, "year of birth one off")

    for _ in range(10):
        p = m.person("hispanic")
        if " " not in p.last:
            p.last = f"{p.last} {r.choice(HISPANIC_LAST)}"
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.last = p.last.split()[0]
        add("compound_surname", True, a, b, "both surnames on one record, the first on the other")

    for _ in range(14):
        p = m.person()
        a = m.record(p, kinds=("phone",))
        p.phone = m.phone()
        b = m.record(p, kinds=("phone",))
        if p.nicknames and r.random() < 0.3:
            b.first = r.choice(p.nicknames)
        add("new_phone", True, a, b, "a new phone, same name and date of birth")

    for _ in range(12):
        p = m.person()
        a = m.record(p, dob=r.random() < 0.5, kinds=("address",))
        b = m.record(p, dob=False, kinds=("address",))
        if p.nicknames and r.random() < 0.5:
            b.first = r.choice(p.nicknames)
        add(
            "address_and_name",
            True,
            a,
            b,
            "same name at the same address, one without a date of birth",
        )

    for _ in range(6):
        p = m.person(r.choice(["vietnamese", "hispanic"]))
        given = p.first
        if p.culture == "vietnamese":
            p.first = f"{r.choice(['Van', 'Thi', 'Duc', 'Ngoc'])} {given}"
        else:
            p.first = f"{given} {r.choice(['Carlos', 'Luis', 'Antonio', 'Isabel', 'Elena'])}"
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        b.first = given
        add("middle_name", True, a, b, "middle name on one record only, same date of birth")

    for _ in range(20):
        p = m.person()
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p)
        changes = r.sample(["nickname", "typo", "swap", "accents", "dob"], 2)
        for change in changes:
            if change == "nickname" and p.nicknames:
                b.first = r.choice(p.nicknames)
            elif change == "typo":
                b.last = m.typo(b.last)
            elif change == "accents":
                b.first, b.last = strip_accents(b.first), strip_accents(b.last)
            elif change == "dob" and p.dob.day <= 12 and p.dob.day != p.dob.month:
                b.dob = date(p.dob.year, p.dob.day, p.dob.month).isoformat()
            elif change == "dob":
                b.dob = p.dob.replace(year=p.dob.year + 1).isoformat()
        if "swap" in changes:
            b.first, b.last = b.last, b.first
        add("two_variants", True, a, b, f"two variants at once: {' and '.join(changes)}")

    positives = len(pairs)

    # ---------------- two people ----------------

    def relative(p: Person, culture: str | None = None) -> Person:
        return relative_of(m, p, culture)

    for _ in range(20):
        p = m.person()
        q = relative(p)
        q.street, q.unit, q.city = p.street, p.unit, p.city
        a = m.record(p, kinds=("address", *m.some_kinds(without=("address",))))
        b = m.record(q, kinds=("address", *m.some_kinds(without=("address",))))
        add("relatives_same_address", False, a, b, "family members at one address")

    for _ in range(14):
        p = m.person()
        q = relative(p)
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, dob=r.random() < 0.7, kinds=m.some_kinds())
        add("relatives_same_last_name", False, a, b, "share a last name, not a first name")

    for male, female in GENDER_PAIRS:
        p = m.person("hispanic")
        q = replace(p, first=female, nicknames=[], phone=m.phone(), email=m.email(female, p.last))
        p.first = male
        a = m.record(p, kinds=("address",))
        b = m.record(q, kinds=("address", "phone"))
        if r.random() < 0.5:
            a, b = b, a
        add("twins", False, a, b, "brother and sister (twins): one birthday, one address")

    for first, last in COMMON_NAMES * 2:
        p = m.person()
        p.first, p.last = first, last
        q = m.person()
        q.first, q.last = first, last
        q.dob = m.dob(not_near=p.dob)
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, kinds=m.some_kinds())
        add("common_name_other_dob", False, a, b, "a common name, different dates of birth")

    for _ in range(10):
        p = m.person("anglo", male=True)
        p.dob = date(1950, 1, 1) + timedelta(days=r.randint(0, 365 * 22))
        son = replace(p, dob=p.dob + timedelta(days=365 * r.randint(20, 32) + r.randint(1, 200)))
        son.phone, son.email = m.phone(), m.email(p.first, p.last)
        a = m.record(p, kinds=("address",))
        b = m.record(son, kinds=("address", "phone"))
        if r.random() < 0.5:
            a.last, b.last = f"{p.last} Sr.", f"{p.last} Jr."
        add("father_son", False, a, b, "father and son of one name at one address")

    for _ in range(10):
        p = m.person()
        q = relative(p)
        digits = list(p.phone)
        i = r.randint(7, 9)
        digits[i] = str((int(digits[i]) + r.choice([1, 2, 9])) % 10)
        q.phone = "".join(digits)
        a = m.record(p, kinds=("phone",))
        b = m.record(q, kinds=("phone",))
        add("similar_phone", False, a, b, "relatives with phone numbers one digit apart")

    for _ in range(10):
        p, q = m.person(), m.person()
        model = r.choice(VIN_MODELS)
        p.vin, q.vin = m.vin(model), m.vin(model)
        a = m.record(p, kinds=("vin",))
        b = m.record(q, kinds=("vin",))
        add(
            "same_model_vin",
            False,
            a,
            b,
            "two cars of one model: VINs share the first 8 characters",
        )

    for _ in range(8):
        p, q = m.person(), m.person()
        chars = list(p.plate)
        i = r.choice([k for k, c in enumerate(chars) if c.isdigit() and c not in "01"] or [0])
        chars[i] = r.choice([d for d in "2345679" if d != chars[i]])
        q.plate = "".join(chars)
        a = m.record(p, kinds=("plate",))
        b = m.record(q, kinds=("plate",))
        add("plate_one_char", False, a, b, "plates one character apart (not O/0 or I/1)")

    for _ in range(8):
        p = m.person()
        q = relative(p)
        local = f"{ascii_word(p.first)[0]}.{ascii_word(p.last)}"
        domain = r.choice(["yahoo.com", "aol.com"])
        p.email = f"{local}@{domain}"
        q.email = f"{local.replace('.', '')}@{domain}"
        a = m.record(p, kinds=("email",))
        b = m.record(q, kinds=("email",))
        add("email_dots_elsewhere", False, a, b, "dots matter outside Gmail: two mailboxes")

    for _ in range(10):
        p, q = m.person(), m.person()
        business = r.choice(BUSINESSES)
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, kinds=m.some_kinds())
        a.identifiers.append(("business", f"{business} {r.choice(LEGAL)}"))
        b.identifiers.append(("business", business.upper()))
        add("coworkers", False, a, b, "two people of one business")

    for _ in range(8):
        p, q = m.person(), m.person()
        q.street, q.city = p.street, p.city
        p.unit = str(r.randint(1, 12))
        q.unit = str(int(p.unit) + r.randint(1, 8))
        a = m.record(p, kinds=("address",))
        b = m.record(q, kinds=("address",))
        add("same_building", False, a, b, "neighbours: one building, other apartments")

    for _ in range(8):
        p = m.person("haitian")
        q = m.person("haitian")
        q.first, q.last = p.last.split("-")[0], p.first.split("-")[0]
        q.dob = m.dob(not_near=p.dob)
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, kinds=m.some_kinds())
        add("swapped_other_dob", False, a, b, "first and last names swapped, different birthdays")

    for _ in range(10):
        p = m.person("hispanic")
        q = replace(p, dob=m.dob(not_near=p.dob), phone=m.phone())
        a = m.record(p, kinds=("address", *m.some_kinds(without=("address", "phone"))))
        b = m.record(q, kinds=("address", "phone"))
        add("namesakes_one_home", False, a, b, "cousins named after one grandparent, one home")

    for _ in range(10):
        p = m.person()
        q = m.person()
        q.first, q.last = p.first, m.typo(p.last)
        q.dob = m.dob(not_near=p.dob)
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, kinds=m.some_kinds())
        add("similar_name_other_dob", False, a, b, "nearly the same name, different birthdays")

    add_rule_classes(m, add)
    same = sum(1 for pair in pairs if pair["label"])
    print(f"{same} same-person pairs, {len(pairs) - same} two-people pairs ({positives} before")
    print("the name, phone, address and VIN rule classes)")
    return pairs


def chinese_given(r: random.Random) -> tuple[str, str]:
    """A given name of one or two syllables: (Pinyin, Wade-Giles as a record writes it)."""
    syllables = r.sample(sorted(CHINESE_SYLLABLES), r.choice([1, 2, 2]))
    pinyin = "".join(syllables).capitalize()
    wade = [CHINESE_SYLLABLES[s] for s in syllables]
    if len(wade) == 1:
        return pinyin, wade[0].capitalize()
    written = r.choice(["{}-{}", "{} {}", "{}{}"]).format(wade[0].capitalize(), wade[1])
    return pinyin, written if "-" in written or " " not in written else written.title()


def foreign_phone(r: random.Random, country: str) -> tuple[str, list[str]]:
    """A foreign mobile number: its digits after the country code, and ways to write it."""
    code, area, length, mobile = FOREIGN_PHONES[country]
    digits = (
        area + str(r.randint(4, 6)) + "".join(r.choice(string.digits) for _ in range(length - 1))
    )
    subscriber = digits[len(area) :]
    half = len(subscriber) // 2
    spaced = f"{area} {subscriber[:half]} {subscriber[half:]}"
    forms = [f"+{code} {spaced}", f"011 {code} {spaced}", f"00{code} {spaced}", f"+{code}{digits}"]
    if mobile:
        forms += [
            f"+{code} {mobile} {spaced}",
            f"011 {code} {mobile} {spaced}",
            f"00 {code} {mobile} {spaced}",
        ]
    if country == "FR":
        forms.append(f"+{code} (0){spaced}")
    return digits, forms


def add_rule_classes(m: Maker, add: Callable[..., None]) -> None:
    """Pairs of the name, phone, address and VIN rules of issue 10, each class with its hard
    negatives: what the rules must now join, and what they must still keep apart."""
    r = m.rng
    m.more_phones = True

    # -- one feminine name spelled two ways; brother and sister -------------------------
    for _ in range(14):
        one, other = r.choice(FEMININE_SPELLINGS)
        p = m.person("haitian", male=False)
        p.first = one
        a = m.record(p, kinds=m.some_kinds(without=("address",)))
        b = m.record(p, dob=r.random() < 0.8)
        if b.dob is None:  # known at one address, without a birthday on one record
            a.identifiers.append(("address", m.address_text(p)))
            b.identifiers.append(("address", m.address_text(p)))
        b.first = other
        if r.random() < 0.5:
            a, b = b, a
        add("feminine_spelling", True, a, b, "one feminine name, a consonant doubled or not")
    for male, female in FRENCH_GENDER_PAIRS:
        p = m.person("haitian", male=True)
        q = replace(p, first=female, phone=m.phone(), email=m.email(female, p.last))
        p.first = male
        a = m.record(p, kinds=("address",))
        b = m.record(q, kinds=("address", "phone"))
        if r.random() < 0.5:
            a, b = b, a
        add("twins_french", False, a, b, "brother and sister (twins): one birthday, one address")

    # -- German and Yiddish surnames, anglicised ----------------------------------------
    for _ in range(16):
        german, english = r.choice(ANGLICISED)
        p = m.person("anglo")
        p.first, p.last = r.choice(GERMAN_FIRST), german
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p, dob=r.random() < 0.75)
        if b.dob is None:  # known at one address, without a birthday on one record
            a.identifiers.append(("address", m.address_text(p)))
            b.identifiers.append(("address", m.address_text(p)))
        elif r.random() < 0.3 and p.dob.day <= 12 and p.dob.day != p.dob.month:
            b.dob = date(p.dob.year, p.dob.day, p.dob.month).isoformat()
        b.last = english
        if r.random() < 0.5:
            a, b = b, a
        add("anglicised_surname", True, a, b, "a German surname and its English form")
    for _ in range(10):
        german, english = r.choice(ANGLICISED)
        p = m.person("anglo")
        p.first, p.last = r.choice(GERMAN_FIRST), german
        q = m.person("anglo")  # another man or woman, of the same name by sound
        q.first, q.last, q.dob = p.first, english, m.dob(not_near=p.dob)
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, kinds=m.some_kinds())
        add("anglicised_other_dob", False, a, b, "namesakes by sound, other birthdays")
    for _ in range(8):
        german, english = r.choice(ANGLICISED)
        p = m.person("anglo")
        p.first, p.last = r.choice(GERMAN_FIRST), german
        q = relative_of(m, p)
        q.last, q.street, q.unit, q.city = english, p.street, p.unit, p.city
        a = m.record(p, kinds=("address",))
        b = m.record(q, dob=r.random() < 0.5, kinds=("address",))
        add("anglicised_relatives", False, a, b, "one family, the name spelled two ways, one home")

    # -- Chinese names in Pinyin and in other romanisations ----------------------------
    for _ in range(20):
        surname = r.choice(sorted(CHINESE_SURNAMES))
        pinyin, wade = chinese_given(r)
        p = m.person("anglo")
        p.first, p.last, p.nicknames = pinyin, surname, []
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(p, kinds=m.some_kinds() if r.random() < 0.3 else ())
        b.last = r.choice(CHINESE_SURNAMES[surname])
        b.first = wade if r.random() < 0.6 else pinyin
        if r.random() < 0.2:
            b.first, b.last = b.last, b.first  # family name first
        if r.random() < 0.5:
            a, b = b, a
        add("chinese_romanisation", True, a, b, "Pinyin and Wade-Giles or Cantonese, one birthday")
    for one, other in CHINESE_OTHER_SURNAMES:
        pinyin, _wade = chinese_given(r)
        p = m.person("anglo")
        p.first, p.last, p.nicknames = pinyin, one, []
        q = m.person("anglo")  # of another family, born the same day
        q.first, q.last, q.dob, q.nicknames = pinyin, other, p.dob, []
        a = m.record(p, kinds=m.some_kinds())
        b = m.record(q, kinds=m.some_kinds())
        add("chinese_other_surname", False, a, b, "two families one letter apart, one birthday")
    for _ in range(8):
        surname = r.choice(sorted(CHINESE_SURNAMES))
        p = m.person("anglo")
        p.first, p.last, p.nicknames = chinese_given(r)[0], surname, []
        q = relative_of(m, p)
        q.first, q.last = chinese_given(r)[1], r.choice(CHINESE_SURNAMES[surname])
        q.street, q.unit, q.city = p.street, p.unit, p.city
        a = m.record(p, kinds=("address",))
        b = m.record(q, kinds=("address",))
        add("chinese_relatives", False, a, b, "one family, romanised two ways, one home")

    # -- a name alone, weighed by how many stored targets share it ----------------------
    # ``namesakes``: how many stored targets the app counts under the more common name
    for first, last in COMMON_NAMES[:10]:
        p, q = m.person(), m.person()
        p.first, p.last = q.first, q.last = first, last
        business = r.choice(BUSINESSES)
        a = m.record(p, dob=r.random() < 0.5)
        b = m.record(q, dob=a.dob is None)
        a.identifiers.append(("business", f"{business} {r.choice(LEGAL)}"))
        b.identifiers.append(("business", business.upper()))
        add("common_name_one_business", False, a, b, "a name dozens share, one business", 60)
    for _ in range(10):
        p = m.person()
        p.last = f"{p.last}-{r.choice(ANGLO_LAST)}" if r.random() < 0.5 else m.typo(p.last)
        business = r.choice(BUSINESSES)
        a = m.record(p, dob=r.random() < 0.5)
        b = m.record(p, dob=a.dob is None)
        a.identifiers.append(("business", f"{business} {r.choice(LEGAL)}"))
        b.identifiers.append(("business", business.upper()))
        add("rare_name_one_business", True, a, b, "a name few share, one business", 1)
    for first, last in COMMON_NAMES[:8]:
        p = m.person()
        p.first, p.last = first, last
        a = m.record(p, dob=False, kinds=("phone",))
        b = m.record(p, dob=False, kinds=("phone",))
        add("common_name_one_phone", True, a, b, "a name dozens share, one phone", 60)

    # -- phones: international dialling forms, extensions --------------------------------
    for _ in range(14):
        p = m.person(r.choice(["hispanic", "haitian"]))
        country = "HT" if p.culture == "haitian" else r.choice(["MX", "AR", "GT", "CO"])
        if r.random() < 0.15:
            country = "FR"
        _digits, forms = foreign_phone(r, country)
        one, other = r.sample(forms, 2)
        a = m.record(p, kinds=m.some_kinds(without=("phone",)))
        b = m.record(p, dob=r.random() < 0.5)
        a.identifiers.append(("phone", one))
        b.identifiers.append(("phone", other))
        add("phone_international", True, a, b, "one foreign number dialled two ways")
    for _ in range(10):
        p = m.person()
        ext = str(r.randint(1, 4999))
        line = m.phone_text(p.phone)
        a = m.record(p, dob=r.random() < 0.5)
        b = m.record(p, dob=False)
        a.identifiers.append(("phone", f"{line} {r.choice(EXTENSION_FORMS).format(ext)}"))
        written = r.choice(EXTENSION_FORMS).format(ext.zfill(r.choice([1, 4])))
        b.identifiers.append(("phone", f"{m.phone_text(p.phone)} {written}"))
        add("phone_extension", True, a, b, "one desk phone, the extension written two ways")
    for _ in range(10):
        p, q = m.person(), m.person()
        q.phone = p.phone  # one switchboard
        desk = r.randint(10, 4999)
        a = m.record(p, dob=r.random() < 0.5)
        b = m.record(q, dob=r.random() < 0.5)
        a.identifiers.append(("phone", f"{m.phone_text(p.phone)} x{desk}"))
        b.identifiers.append(("phone", f"{m.phone_text(p.phone)} ext. {desk + r.randint(1, 9)}"))
        # decided: another extension of one main number is another desk, not one person
        add("switchboard_other_extension", False, a, b, "two desks behind one switchboard")
    for _ in range(8):
        p = m.person("hispanic")
        q = relative_of(m, p)
        digits, forms = foreign_phone(r, r.choice(["MX", "AR"]))
        i = r.randrange(len(digits) - 4, len(digits))
        other = digits[:i] + str((int(digits[i]) + r.choice([1, 3, 7])) % 10) + digits[i + 1 :]
        code = FOREIGN_PHONES["MX"][0] if forms[0].startswith("+52") else FOREIGN_PHONES["AR"][0]
        a = m.record(p)
        b = m.record(q)
        a.identifiers.append(("phone", r.choice(forms)))
        b.identifiers.append(("phone", f"011 {code} {other}"))
        add(
            "phone_international_one_digit",
            False,
            a,
            b,
            "relatives, foreign numbers one digit apart",
        )

    # -- addresses: unit designators and directionals ----------------------------------
    def address_form(
        number: str, direction: str, name: str, unit: str, city: str, zip5: str
    ) -> str:
        d = r.choice(DIRECTIONAL_FORMS[direction])
        street = r.choice([f"{number} {d} {name} St", f"{number} {name} St {d}"])
        street = street.replace(" St", r.choice([" St", " Street", " St."]))
        unit_text = r.choice(UNIT_FORMS).format(unit)
        tail = r.choice([f"{city}, FL {zip5}", f"{city} Florida {zip5}", zip5])
        return f"{street} {unit_text}, {tail}"

    for _ in range(14):
        p = m.person()
        number = str(r.randint(100, 9899))
        direction = r.choice(sorted(DIRECTIONAL_FORMS))
        name = r.choice(["Main", "Ocean", "Palm", "Dixie", "Banyan", "Clematis", "2nd", "14th"])
        unit = r.choice([str(r.randint(1, 40)), f"{r.randint(1, 9)}{r.choice('ABCD')}"])
        city, zip5 = r.choice(CITIES)
        a = m.record(p, dob=r.random() < 0.5)
        b = m.record(p, dob=False)
        if r.random() < 0.3 and p.nicknames:
            b.first = r.choice(p.nicknames)
        a.identifiers.append(("address", address_form(number, direction, name, unit, city, zip5)))
        b.identifiers.append(("address", address_form(number, direction, name, unit, city, zip5)))
        add("address_written_otherwise", True, a, b, "one flat, its unit and directional otherwise")
    for _ in range(12):
        p, q = m.person(), m.person()
        number = str(r.randint(100, 9899))
        direction = r.choice(sorted(DIRECTIONAL_FORMS))
        name = r.choice(["Main", "Ocean", "Palm", "Dixie", "Banyan", "Clematis", "2nd", "14th"])
        unit = str(r.randint(1, 40))
        city, zip5 = r.choice(CITIES)
        other_direction, other_unit = direction, unit
        if r.random() < 0.5:
            other_unit = str(int(unit) + r.randint(1, 9))  # the flat next door
        else:  # the same number on the other side of town
            opposite = {"N": "S", "S": "N", "E": "W", "W": "E", "NE": "SW", "SW": "NE"}
            other_direction = opposite.get(direction, "N" if direction != "N" else "S")
        a = m.record(p, kinds=m.some_kinds(without=("address",)))
        b = m.record(q, kinds=m.some_kinds(without=("address",)))
        a.identifiers.append(("address", address_form(number, direction, name, unit, city, zip5)))
        b.identifiers.append(
            ("address", address_form(number, other_direction, name, other_unit, city, zip5))
        )
        add("address_other_door", False, a, b, "another flat or another street, written otherwise")

    # -- VINs whose check digit does not match -------------------------------------------
    def odd_vin(vin: str) -> str:
        wrong = r.choice([c for c in "0123456789X" if c != vin[8]])
        return vin[:8] + wrong + vin[9:]

    for _ in range(10):
        p = m.person()
        p.vin = odd_vin(p.vin)  # a pre-1981 or foreign vehicle, or a typo on both records
        a = m.record(p, kinds=("vin",))
        b = m.record(p, dob=r.random() < 0.5, kinds=("vin",))
        add("vin_check_digit_mismatch", True, a, b, "one vehicle, its check digit does not match")
    for _ in range(8):
        p, q = m.person(), m.person()
        model = r.choice(VIN_MODELS)
        p.vin, q.vin = odd_vin(m.vin(model)), m.vin(model)
        if r.random() < 0.5:
            q.vin = odd_vin(q.vin)
        a = m.record(p, kinds=("vin",))
        b = m.record(q, kinds=("vin",))
        add("vin_mismatch_other_car", False, a, b, "two cars of one model, a check digit wrong")


def main() -> None:
    pairs = build()
    with OUT.open("w", encoding="utf-8") as f:
        for pair in pairs:
            f.write(json.dumps(pair, ensure_ascii=False) + "\n")
    print(f"wrote {len(pairs)} pairs to {OUT}")


if __name__ == "__main__":
    main()
