"""gunicorn settings; every value can be overridden on the command line or by GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("JOINTOPS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("JOINTOPS_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
# Threads, so that a request waiting on the directory does not hold a whole worker: at most
# JOINTOPS_DIRECTORY_MAX_CONCURRENT of them (default half) wait on it, the rest serve pages.
worker_class = "gthread"
threads = int(os.environ.get("JOINTOPS_THREADS", 4))
timeout = 30
graceful_timeout = 20
forwarded_allow_ips = os.environ.get("JOINTOPS_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Feed URLs carry their capability token: the access and error logs show a hash prefix instead.
logger_class = "jointops.feeds.gunicorn_logging.RedactingLogger"


def post_worker_init(worker):
    """Bound the sign-ins that may wait on the directory by this worker's threads; then
    compete for the scheduler lease (JOINTOPS_SCHEDULER=auto; see README)."""
    from jointops.identity.directory import bound_sign_ins
    from jointops.jobs.scheduler import start_in_worker

    bound_sign_ins(worker.wsgi, worker.cfg.threads)
    start_in_worker(worker.wsgi)


def worker_exit(server, worker):
    """Stop this worker's jobs and release the lease at once, so another worker takes over."""
    from jointops.jobs.scheduler import stop_in_worker

    stop_in_worker()
