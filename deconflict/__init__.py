"""Deconfliction rules as a pure library: plain values in, plain values out.

No Flask, no SQLAlchemy, no directory: the app maps its rows onto these
types, so that the rules can be tested, benchmarked and reused on their own.

- ``match``: the scored, explained :class:`~deconflict.match.Match` every rule returns.
- ``windows``: half-open time windows.
- ``events``: operations near in place and time (event deconfliction).
- ``identifiers``: normal forms and exact keys of phones, e-mails, plates, VINs,
  handles, addresses and businesses.
- ``names``: person names (transliteration, nicknames, swaps, aliases, date of birth).
- ``targets``: two agencies' records of one subject (target deconfliction).
"""
