"""The inbox and its badge, and e-mail preferences within each agency's policy.

The mail job (``jobs.tasks.mail``) sends what is queued here.
"""
