"""Background jobs: plain functions, run by the one elected scheduler (``jointops.scheduler``)."""
