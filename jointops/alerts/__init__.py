"""Deconfliction alerts as people see and work them.

The pointer each side reads, the review list, the acknowledge/resolve workflow, who is told.
"""
