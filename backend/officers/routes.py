import base64

from flask import Response, g, request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint, PageArgsSchema
from backend.keys import JwksSchema

from . import badge_card, examples, limits, services
from .schemas import (
    BadgeLookupArgsSchema,
    DynamicBadgeSchema,
    OfficerListSchema,
    OfficerPutSchema,
    OfficerSchema,
    OfficerStatusSchema,
    RosterArgsSchema,
    RosterPageSchema,
    VerificationSchema,
    VerifyArgsSchema,
)

OFFICER_NOT_FOUND = "no such officer of the agency (another agency's officer is not found either)"

publish_blp = Blueprint(
    "publish_officers",
    __name__,
    url_prefix="/api/v1/publish/officers",
    description="Officers and credentials, managed by their own agency",
)
public_blp = Blueprint("officers", __name__, url_prefix="/api/v1/officers", description="执法人员名单 (public roster)")
badges_blp = Blueprint("badges", __name__, url_prefix="/api/v1/badges", description="Badge verification and keys")


@publish_blp.route("")
class OwnOfficers(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(PageArgsSchema, location="query")
    @publish_blp.response(200, OfficerListSchema)
    def get(self, args):
        """The agency's officers by badge number, each with its badge's verification page"""
        return services.page_own(g.agency, **args)


@publish_blp.route("/<string:badge_no>")
class OwnOfficer(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(OfficerPutSchema, example=examples.OFFICER)
    @publish_blp.response(200, OfficerSchema, description="updated, or unchanged")
    @publish_blp.alt_response(201, schema=OfficerSchema, description="created")
    def put(self, data, badge_no):
        """Create or update an officer's credential (idempotent)"""
        officer, outcome = services.upsert_officer(g.agency, badge_no, data, g.actor)
        return officer, 201 if outcome == "created" else 200

    @publish_blp.agency_required
    @publish_blp.response(200, OfficerSchema)
    @publish_blp.alt_response(404, description=OFFICER_NOT_FOUND)
    def get(self, badge_no):
        """One of the agency's officers"""
        return services.get_own(g.agency, badge_no)


@publish_blp.route("/<string:badge_no>/status")
class OwnOfficerStatus(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(OfficerStatusSchema, example=examples.STATUS)
    @publish_blp.response(200, OfficerSchema)
    @publish_blp.alt_response(404, description=OFFICER_NOT_FOUND)
    def post(self, body, badge_no):
        """Suspend (暂扣), revoke (注销) or reinstate a credential; audited, live at once"""
        return services.set_status(g.agency, badge_no, body["status"], body["reason"], g.actor, ip=request.remote_addr)


@publish_blp.route("/<string:badge_no>/badge.png")
class BadgePng(MethodView):
    @publish_blp.agency_required
    @publish_blp.response(200, content_type="image/png")
    @publish_blp.alt_response(404, description=OFFICER_NOT_FOUND)
    def get(self, badge_no):
        """The printable badge card (85.6 × 54 mm at 300 dpi) with its QR"""
        return Response(badge_card.render_png(services.badge_card(g.agency, badge_no)), mimetype="image/png")


@publish_blp.route("/<string:badge_no>/badge.svg")
class BadgeSvg(MethodView):
    @publish_blp.agency_required
    @publish_blp.response(200, content_type="image/svg+xml")
    @publish_blp.alt_response(404, description=OFFICER_NOT_FOUND)
    def get(self, badge_no):
        """The printable badge card as SVG"""
        return Response(badge_card.render_svg(services.badge_card(g.agency, badge_no)), mimetype="image/svg+xml")


@publish_blp.route("/<string:badge_no>/dynamic-badge")
class DynamicBadge(MethodView):
    @publish_blp.agency_required
    @publish_blp.response(200, DynamicBadgeSchema)
    @publish_blp.alt_response(404, description=OFFICER_NOT_FOUND)
    def post(self, badge_no):
        """A badge valid for 60 seconds, for the officer's phone screen (defeats screenshots)"""
        issued = services.dynamic_badge(g.agency, badge_no)
        return {
            "token": issued.token,
            "url": issued.url,
            "expires_at": issued.expires_at,
            "qr_svg": badge_card.qr_svg(issued.url),
            "qr_png": base64.b64encode(badge_card.qr_png(issued.url)).decode(),
        }


@public_blp.route("")
class Roster(MethodView):
    @public_blp.arguments(RosterArgsSchema, location="query")
    @public_blp.response(200, RosterPageSchema)
    def get(self, args):
        """Search the roster of officers (name, badge number, agency, domains, status)"""
        return services.roster(**args)


@badges_blp.route("/verify")
class Verify(MethodView):
    @badges_blp.arguments(VerifyArgsSchema, location="query")
    @badges_blp.response(200, VerificationSchema)
    @badges_blp.alt_response(429, description="too many checks from this address")
    def get(self, args):
        """Verify a badge token: valid, suspended, revoked, expired or invalid"""
        limits.limit_verification(request.remote_addr)
        return services.verify(args["token"])


@badges_blp.route("/lookup")
class Lookup(MethodView):
    @badges_blp.arguments(BadgeLookupArgsSchema, location="query")
    @badges_blp.response(200, VerificationSchema)
    @badges_blp.alt_response(429, description="too many checks from this address (shared with verify)")
    def get(self, args):
        """Check a badge by its number (a QR too damaged to scan): the verdict a scan of it gives now; an unknown
        number is invalid; 422 naming the agencies when officers of several have the number"""
        limits.limit_verification(request.remote_addr)
        return services.lookup(args["badge_no"], args.get("agency"))


@badges_blp.route("/keys")
class Keys(MethodView):
    @badges_blp.without_storage
    @badges_blp.response(200, JwksSchema)
    def get(self):
        """The public keys badges are signed with (JWKS), for offline verification"""
        return services.tokens.key_ring().jwks()
