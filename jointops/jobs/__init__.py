"""Background jobs, run by the one elected scheduler (``jointops.jobs.scheduler``)."""
