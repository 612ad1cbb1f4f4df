"""Administration.

Accounts as the directory gave them, their locks and live sessions; the jobs page.
"""
