"""Every API resource, in registration order."""

from backend.accounts import routes as accounts
from backend.agencies import routes as agencies

MODULES = (accounts, agencies)


def register_blueprints(api) -> None:
    for module in MODULES:
        api.register_blueprint(module.blp)
