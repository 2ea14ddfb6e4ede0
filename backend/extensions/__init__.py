"""Extensions created once at module level and attached to the app with ``init_app``."""

from search_index import search

from .cache import cache
from .clock import clock
from .database import db
from .smorest import Api

api = Api()

__all__ = ["api", "cache", "clock", "db", "search"]
