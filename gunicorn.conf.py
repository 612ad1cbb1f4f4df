"""gunicorn settings; every value can be overridden on the command line or by GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = os.environ.get("JOINTOPS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("JOINTOPS_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
forwarded_allow_ips = os.environ.get("JOINTOPS_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
# Feed URLs carry their capability token: the access and error logs show a hash prefix instead.
logger_class = "jointops.gunicorn_logging.RedactingLogger"
