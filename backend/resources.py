"""Every API resource, in registration order."""

from backend.accounts import routes as accounts
from backend.agencies import routes as agencies
from backend.cases import routes as cases
from backend.complaints import routes as complaints
from backend.disclosures import routes as disclosures
from backend.extensions.database import read_only_gets
from backend.officers import routes as officers
from backend.supervision import routes as supervision
from backend.transparency import routes as transparency
from miniapp_api import routes as miniapp

BLUEPRINTS = (
    accounts.blp,
    agencies.blp,
    disclosures.publish_blp,
    disclosures.public_blp,
    officers.publish_blp,
    officers.public_blp,
    officers.badges_blp,
    miniapp.wxacode_blp,
    transparency.blp,
    complaints.blp,
    cases.blp,
    supervision.blp,
    supervision.supervision_blp,
    miniapp.blp,
)


# What citizens read: their GET requests never write through the session (see database.reading).
PUBLIC_READS = (
    agencies.blp,
    disclosures.public_blp,
    officers.public_blp,
    officers.badges_blp,
    miniapp.blp,
)
for _blueprint in PUBLIC_READS:  # once, at import: a blueprint's setup is closed once it is registered
    read_only_gets(_blueprint)


def register_blueprints(api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
