"""Nicknames: the ``nicknames`` package's (English) table, plus Spanish and Russian ones.

The package's table (carltonnorthern/nicknames) knows Bob and Bill but not
Paco or Sasha; a South Florida task force meets both, so the hypocoristics
below (the everyday short forms in each language) are added to it.
"""

from __future__ import annotations

from functools import lru_cache

from nicknames import NickNamer

# canonical name -> its everyday short forms
EXTRA: dict[str, tuple[str, ...]] = {
    # Spanish
    "alberto": ("beto",),
    "alejandra": ("ale", "alex", "sandra"),
    "alejandro": ("ale", "alex", "alejo", "jando"),
    "antonio": ("tono", "tony", "toni"),
    "carlos": ("carlitos", "charly", "charlie"),
    "concepcion": ("concha", "conchita", "conchi"),
    "dolores": ("lola", "loli"),
    "eduardo": ("lalo", "eddie", "edu"),
    "enrique": ("quique", "kike"),
    "fernando": ("nando", "fer"),
    "francisca": ("paca", "pancha", "paquita"),
    "francisco": ("paco", "pancho", "cisco", "kiko", "frank"),
    "gilberto": ("beto", "gil"),
    "graciela": ("chela",),
    "guadalupe": ("lupe", "lupita"),
    "guillermo": ("memo", "guille"),
    "humberto": ("beto",),
    "ignacio": ("nacho",),
    "jesus": ("chuy", "chucho", "chuyito"),
    "jose": ("pepe", "chepe", "cheo", "pepito"),
    "josefina": ("fina", "pepa", "chepina"),
    "manuel": ("manolo", "manny", "manu"),
    "margarita": ("rita", "marga"),
    "mercedes": ("meche", "merche"),
    "ramon": ("moncho",),
    "ricardo": ("ricky", "richi"),
    "roberto": ("beto", "tito"),
    "rosario": ("charo", "chayo"),
    "salvador": ("chava", "chavo", "salva"),
    "santiago": ("santi", "chago"),
    "socorro": ("coco",),
    "teresa": ("tere",),
    # Russian (and Ukrainian spellings)
    "aleksandr": ("sasha", "sanya", "shura"),
    "alexander": ("sasha", "sanya", "shura"),
    "aleksandra": ("sasha", "shura"),
    "alexandra": ("sasha", "shura"),
    "anastasia": ("nastya",),
    "dmitry": ("dima", "mitya"),
    "dmitriy": ("dima", "mitya"),
    "dmitri": ("dima", "mitya"),
    "ekaterina": ("katya",),
    "yekaterina": ("katya",),
    "elena": ("lena",),
    "yelena": ("lena",),
    "evgeny": ("zhenya",),
    "evgeniy": ("zhenya",),
    "yevgeny": ("zhenya",),
    "ivan": ("vanya",),
    "maria": ("masha", "mari"),
    "mikhail": ("misha",),
    "natalia": ("natasha",),
    "natalya": ("natasha",),
    "nikolai": ("kolya",),
    "nikolay": ("kolya",),
    "olga": ("olya",),
    "pavel": ("pasha",),
    "sergei": ("seryozha", "serezha"),
    "sergey": ("seryozha", "serezha"),
    "svetlana": ("sveta",),
    "tatiana": ("tanya",),
    "tatyana": ("tanya",),
    "vladimir": ("volodya", "vova"),
    "yuri": ("yura",),
    "yuriy": ("yura",),
}


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=1)
def _extra_canonicals() -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for canonical, shorts in EXTRA.items():
        for short in shorts:
            found.setdefault(short, set()).add(canonical)
    return {k: frozenset(v) for k, v in found.items()}


@lru_cache(maxsize=65536)
def relatives(name: str) -> frozenset[str]:
    """``name``, its nicknames and the names it is a nickname of (one step, not transitive).

    Not transitive, so that Bill (William) and Bob (Robert) do not meet through
    the table's one row that gives Bill for Robert.
    """
    nn = _nicknamer()
    return frozenset(
        {name}
        | nn.nicknames_of(name)
        | nn.canonicals_of(name)
        | set(EXTRA.get(name, ()))
        | _extra_canonicals().get(name, frozenset())
    )
