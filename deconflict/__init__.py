"""Deconfliction rules as a pure library: plain values in, plain values out.

No Flask, no SQLAlchemy, no directory: the app maps its rows onto these
types, so that the rules can be tested, benchmarked and reused on their own.
"""
