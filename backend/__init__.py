"""行政执法三项制度 platform: disclosure, badge verification, complaints, records and review."""

from .app import create_app

__all__ = ["create_app"]
