"""Operations, interviews and appointments.

Their rules, booking without double-booking, the calendar grid, pages and JSON API.
"""
