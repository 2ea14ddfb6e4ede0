from flask import g
from flask.views import MethodView

from backend.accounts import services as accounts
from backend.accounts.schemas import TokenSchema
from backend.extensions.smorest import Blueprint

from . import services
from .schemas import AdminTokenRequestSchema, DisclosureChangesArgsSchema, DisclosureChangesSchema

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Admin API: handlers and supervisors")


@blp.route("/auth/token")
class AdminToken(MethodView):
    @blp.arguments(AdminTokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="wrong username or password")
    @blp.alt_response(429, description="too many failures; see Retry-After")
    def post(self, credentials):
        """Exchange an admin user's password for a short-lived bearer token"""
        return accounts.issue_admin_token(credentials["username"], credentials["password"])


@blp.route("/disclosure-changes")
class DisclosureChanges(MethodView):
    @blp.admin_required("supervisor", "admin", "handler")
    @blp.arguments(DisclosureChangesArgsSchema, location="query")
    @blp.response(200, DisclosureChangesSchema)
    def get(self, args):
        """Every correction, withdrawal and expiry in your scope, with who, when and why"""
        return services.disclosure_changes(g.admin, **args)
