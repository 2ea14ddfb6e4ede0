"""factory_boy factories; each persists through the app's session (inside the test's transaction)."""

from . import reviews
from .agencies import AgencyFactory

__all__ = ["AgencyFactory", "reviews"]
