"""iCalendar feeds as a pure library: plain event objects in, RFC 5545 text out.

No Flask and no database; the redaction policy of what a feed may carry lives
here. (The package is not called ``calendar``: that would shadow the standard
library module that APScheduler, dateutil and the e-mail package import.)
"""
