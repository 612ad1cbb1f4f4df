"""Directory sync: agencies and accounts mirrored from the directory; leavers deactivated."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jointops.identity.directory import sync_directory
from jointops.jobs.registry import job


@job("directory_sync", "interval", setting="DIRECTORY_SYNC_EVERY_MINUTES", minutes=15)
def sync(now: datetime) -> Mapping[str, Any]:
    """Run ``sync_directory`` (idempotent: a second run finds nothing to change)."""
    report = sync_directory()
    return {
        "agencies": report.agencies,
        "created": len(report.created),
        "updated": report.updated,
        "deactivated": len(report.deactivated),
    }
