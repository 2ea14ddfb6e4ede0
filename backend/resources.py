"""Every API resource, in registration order, and the blueprints of pages (HTML, health, WeChat's callback)."""

import swagger_ui_bundle
from flask import Blueprint, Flask

from backend.accounts import routes as accounts
from backend.admin_pages.routes import blp as admin_pages_blp
from backend.agencies import routes as agencies
from backend.audit import routes as audit
from backend.cases import routes as cases
from backend.complaints import routes as complaints
from backend.disclosures import routes as disclosures
from backend.exchange import routes as exchange
from backend.extensions.database import read_only_gets
from backend.health.routes import blp as health_blp
from backend.officers import routes as officers
from backend.pages.routes import blp as pages_blp
from backend.supervision import routes as supervision
from backend.transparency import routes as transparency
from miniapp_api import routes as miniapp
from miniapp_api.official import blp as wechat_official_blp

BLUEPRINTS = (
    accounts.blp,
    agencies.blp,
    disclosures.publish_blp,
    disclosures.public_blp,
    disclosures.approval_blp,
    officers.publish_blp,
    officers.public_blp,
    officers.badges_blp,
    miniapp.wxacode_blp,
    transparency.blp,
    exchange.blp,
    complaints.blp,
    cases.blp,
    cases.review_blp,
    supervision.blp,
    supervision.supervision_blp,
    supervision.case_reads_blp,
    exchange.credit_blp,
    audit.blp,
    accounts.admin_blp,
    exchange.push_admin_blp,
    exchange.hotline_blp,
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


# Outside the OpenAPI document: what people and WeChat read.
PAGES = (health_blp, pages_blp, wechat_official_blp, admin_pages_blp)


def register_pages(app: Flask) -> None:
    for blueprint in PAGES:
        app.register_blueprint(blueprint)
    # Swagger UI's assets, served by the app itself rather than from a CDN.
    static = swagger_ui_bundle.swagger_ui_path
    app.register_blueprint(Blueprint("swagger_ui", __name__, static_folder=static, static_url_path="/api/docs/static"))
