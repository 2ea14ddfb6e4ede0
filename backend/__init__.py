"""行政执法三项制度 platform: disclosure, badge verification, complaints, records and review.

``create_app`` is imported when first asked for, not with the package: deploy/gunicorn.conf.py reads its
settings through ``backend.config`` and must export PROMETHEUS_MULTIPROC_DIR before the application's modules
import prometheus-client, which chooses its multiprocess mode at that moment.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
