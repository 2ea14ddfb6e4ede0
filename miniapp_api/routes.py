from flask import Response, current_app, g, request
from flask.views import MethodView

from backend.complaints.services import filed_view
from backend.disclosures.schemas import RemovalNoticeSchema
from backend.extensions import cache
from backend.extensions.smorest import Blueprint
from backend.officers import services as officers
from backend.officers.limits import limit_verification
from backend.officers.tokens import verify_url

from . import services
from .blueprint import MINIAPP_SCHEME, MiniappBlueprint
from .schemas import (
    MiniappComplaintSchema,
    MiniappComplaintViewSchema,
    MiniappDisclosureSchema,
    MiniappFiledSchema,
    MiniappLoginSchema,
    MiniappMyComplaintsArgsSchema,
    MiniappMyComplaintsSchema,
    MiniappRatingSchema,
    MiniappSearchArgsSchema,
    MiniappSearchPageSchema,
    MiniappSubscriptionSchema,
    MiniappTokenSchema,
    MiniappVerificationSchema,
    MiniappVerifyArgsSchema,
)
from .wechat import wechat

NOT_YOURS = "no complaint of yours with this tracking number"

blp = MiniappBlueprint(
    "miniapp", __name__, url_prefix="/miniapp/v1", description="WeChat mini-program: search, verify, complain"
)
wxacode_blp = Blueprint(
    "publish_officers_wxacode",
    __name__,
    url_prefix="/api/v1/publish/officers",
    description="Mini-program codes for badges, managed by the officer's agency",
)


@blp.before_request
def require_configuration() -> None:
    """503 until the mini-program is configured; but a request for a user's operation without a valid token is
    401 first: what the client itself must mend is said whatever the server's state."""
    if wechat.state.miniapp is not None:
        return  # configured: the operation's own decorator checks the token, once
    view_class = getattr(current_app.view_functions.get(request.endpoint or ""), "view_class", None)
    method = getattr(view_class, request.method.lower(), None)
    if getattr(method, "_apidoc", {}).get("auth") == MINIAPP_SCHEME:
        services.require_miniapp_token(request.headers.get("Authorization", ""))
    wechat.miniapp  # noqa: B018  (raises the 503: the mini-program is not configured)


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(MiniappLoginSchema, example={"code": "0a3Xk2100Gq8PQ1Ynl200eX3bC1Xk21y"})
    @blp.response(200, MiniappTokenSchema)
    @blp.alt_response(401, description="the code is invalid or was already used")
    @blp.alt_response(403, description="WeChat refuses this user (high risk)")
    def post(self, body):
        """Log in with the code of wx.login(); the session_key stays on the server"""
        issued = services.login(body["code"])
        return {
            "access_token": issued.access_token,
            "token_type": issued.token_type,
            "expires_in": issued.expires_in,
            "subscribe_template_id": current_app.config["WECHAT_SUBSCRIBE_TEMPLATE_ID"],
        }


@blp.route("/disclosures")
class Disclosures(MethodView):
    @blp.arguments(MiniappSearchArgsSchema, location="query")
    @blp.response(200, MiniappSearchPageSchema)
    def get(self, args):
        """Search disclosures (the public search and its filters, one line per item; named facet counts on request)"""
        return services.search(**args)


@blp.route("/disclosures/<string:disclosure_id>")
class Disclosure(MethodView):
    @blp.response(200, MiniappDisclosureSchema)
    @blp.alt_response(404, description="no public item with that id")
    @blp.alt_response(410, schema=RemovalNoticeSchema, description="withdrawn or expired: the notice")
    def get(self, disclosure_id):
        """One published item"""
        return services.disclosure(disclosure_id)


@blp.route("/badges/verify")
class VerifyBadge(MethodView):
    @blp.arguments(MiniappVerifyArgsSchema, location="query")
    @blp.response(200, MiniappVerificationSchema)
    @blp.alt_response(429, description="too many checks from this address")
    def get(self, args):
        """Verify a badge: its token or QR link, or the scene of its mini-program code"""
        limit_verification(request.remote_addr)
        checked = services.verify_scene(args["scene"]) if "scene" in args else services.verify_token(args["token"])
        return verification_view(checked)


def verification_view(checked: services.BadgeCheck) -> dict:
    verification, token = checked.verification, checked.token
    officer = verification.officer
    return {
        "result": verification.result,
        "label": verification.label,
        "reason": verification.reason,
        "checked_at": verification.checked_at,
        "officer": None
        if officer is None
        else {
            "name": officer["name"],
            "badge_no": officer["badge_no"],
            "agency_name": officer["agency"]["name"],
            "domains": officer["domains"],
            "valid_until": officer["valid_until"],
            "photo_url": f"{verify_url(token)}/photo" if officer["photo"] else None,
        },
        "page_url": verify_url(token) if officer is not None else None,
        "receipt": officers.scan_receipt(verification),
    }


@blp.route("/complaints")
class MyComplaints(MethodView):
    @blp.miniapp_required
    @blp.arguments(
        MiniappComplaintSchema,
        example={
            "category": "attitude",
            "content": "窗口工作人员办理营业执照变更时态度生硬，不解释材料要求。",
            "agency": "11350500MB0C1234XK",
            "notify_consent": True,
        },
    )
    @blp.response(201, MiniappFiledSchema, description="filed; doubtful text is filed too, for review")
    @blp.alt_response(200, schema=MiniappFiledSchema, description="the same complaint was just filed")
    @blp.alt_response(409, description="no tracking number could be drawn this time: send it again")
    @blp.alt_response(429, description="too many complaints from this user")
    def post(self, data):
        """File a complaint; the text passes WeChat's content check (or the local filter)"""
        limit_user_submissions()
        filed = services.submit_complaint(g.user, data)
        body = {**filed_view(filed), "under_review": filed.complaint.needs_review}
        return body, 201 if filed.created else 200

    @blp.miniapp_required
    @blp.arguments(MiniappMyComplaintsArgsSchema, location="query")
    @blp.response(200, MiniappMyComplaintsSchema)
    def get(self, args):
        """The user's own complaints, newest first"""
        return services.mine(g.user, **args)


@blp.route("/complaints/<string:tracking_no>")
class MyComplaint(MethodView):
    @blp.miniapp_required
    @blp.response(200, MiniappComplaintViewSchema)
    @blp.alt_response(404, description=NOT_YOURS)
    def get(self, tracking_no):
        """One of the user's complaints: status and public timeline"""
        return services.complaint_view(services.own_complaint(g.user, tracking_no))


@blp.route("/complaints/<string:tracking_no>/rating")
class MyRating(MethodView):
    @blp.miniapp_required
    @blp.arguments(MiniappRatingSchema, example={"score": 5, "comment": "答复清楚"})
    @blp.response(200, MiniappComplaintViewSchema)
    @blp.alt_response(404, description=NOT_YOURS)
    @blp.alt_response(409, description="not closed yet, or already rated")
    def post(self, body, tracking_no):
        """Rate the handling (1-5) once closed; the comment passes the content check"""
        return services.complaint_view(services.rate(g.user, tracking_no, body["score"], body.get("comment")))


@blp.route("/complaints/<string:tracking_no>/subscription")
class MySubscription(MethodView):
    @blp.miniapp_required
    @blp.arguments(MiniappSubscriptionSchema, example={"template_id": "kT3m9XwQ2vJ8pL1a", "choice": "accept"})
    @blp.response(200, MiniappComplaintViewSchema)
    @blp.alt_response(404, description=NOT_YOURS)
    def put(self, body, tracking_no):
        """Record the user's answer to the subscribe-message request for this complaint's updates"""
        complaint = services.record_consent(g.user, tracking_no, body["template_id"], body["choice"])
        return services.complaint_view(complaint)


def limit_user_submissions() -> None:
    cache.enforce("complaint", f"openid:{g.user.openid}", current_app.config["COMPLAINT_RATE_LIMIT_PER_HOUR"], 3600)


@wxacode_blp.route("/<string:badge_no>/badge-wxacode.png")
class BadgeWxacode(MethodView):
    @wxacode_blp.agency_required
    @wxacode_blp.response(200, content_type="image/png")
    @wxacode_blp.alt_response(404, description="no such officer of the agency (another agency's is not found either)")
    @wxacode_blp.alt_response(503, description="WeChat is unavailable or the mini-program is not configured")
    def get(self, badge_no):
        """The officer's mini-program code: WeChat opens the verification page in the mini-program"""
        response = Response(services.badge_wxacode(g.agency, badge_no), mimetype="image/png")
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response
