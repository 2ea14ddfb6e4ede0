"""Every API resource, in registration order."""

from backend.accounts import routes as accounts
from backend.agencies import routes as agencies
from backend.complaints import routes as complaints
from backend.disclosures import routes as disclosures
from backend.officers import routes as officers
from backend.supervision import routes as supervision
from backend.transparency import routes as transparency

BLUEPRINTS = (
    accounts.blp,
    agencies.blp,
    disclosures.publish_blp,
    disclosures.public_blp,
    officers.publish_blp,
    officers.public_blp,
    officers.badges_blp,
    transparency.blp,
    complaints.blp,
    supervision.blp,
)


def register_blueprints(api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
