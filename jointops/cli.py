"""The ``jointops`` command: Flask's command line over the app, with the app's own commands.

The commands themselves live with their features and are added in ``create_app``.
"""

from __future__ import annotations

from flask.cli import FlaskGroup

from jointops.app import create_app

main = FlaskGroup(create_app=create_app, help="JointOps: scheduling and deconfliction.")
