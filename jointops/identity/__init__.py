"""Who someone is.

The directory mirror, sign-in and lockout, server-side sessions, and the route guard every
view declares.
"""
