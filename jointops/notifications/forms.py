"""Which notifications also come by e-mail."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
)


class NotificationSettingsForm(FlaskForm):
    """Which categories of notifications the user also gets by e-mail too."""

    email_alert = BooleanField("Deconfliction alerts")
    email_escalation = BooleanField("Escalations of unacknowledged alerts")
    email_reminder = BooleanField("Reminders of your events")
    email_retention = BooleanField("Warnings that your agency's targets are about to expire")
