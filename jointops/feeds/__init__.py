"""iCal feeds.

Capability tokens, what each feed carries (through ``calendars``), serving them, and keeping
their secrets out of logs.
"""
