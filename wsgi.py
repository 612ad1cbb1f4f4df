"""The WSGI entry point: ``gunicorn wsgi:app``."""

from jointops import create_app

app = create_app()
