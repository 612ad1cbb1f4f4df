"""Operations, interviews, appointments and meetings.

Their rules, booking without double-booking, the calendar grid, pages and JSON API.
"""
