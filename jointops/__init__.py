"""JointOps: scheduling and deconfliction for a co-located task force office."""

from jointops.app import create_app

__all__ = ["create_app"]
