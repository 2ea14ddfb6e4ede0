from flask import g, request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import lifecycle, services, sessions
from .schemas import (
    AdminAccountListSchema,
    AdminAccountSchema,
    AdminSessionListSchema,
    RevokedSchema,
    TemporaryPasswordSchema,
    TokenRequestSchema,
    TokenSchema,
    WhoAmISchema,
)

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Agency client authentication")


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(
        TokenRequestSchema, example={"client_id": "qzscjgj-case-system", "client_secret": "s3cr3t-printed-once"}
    )
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="wrong client id or secret")
    @blp.alt_response(429, description="too many failures; see Retry-After")
    @blp.alt_response(503, description="the database or cache is unavailable")
    def post(self, credentials):
        """Exchange client credentials for a short-lived bearer token"""
        return services.issue_token(credentials["client_id"], credentials["client_secret"], request.remote_addr)


@blp.route("/whoami")
class WhoAmI(MethodView):
    @blp.agency_required
    @blp.response(200, WhoAmISchema)
    def get(self):
        """Which client and agency a bearer token speaks for"""
        return services.whoami(g.agency, g.actor)


admin_blp = Blueprint(
    "admin_accounts",
    __name__,
    url_prefix="/api/v1/admin",
    description="Admin accounts (the system administrator) and admin sessions (the security administrator)",
)


@admin_blp.route("/accounts")
class Accounts(MethodView):
    @admin_blp.admin_required("admin")
    @admin_blp.response(200, AdminAccountListSchema)
    def get(self):
        """Every admin account with its state (system administrator)"""
        return {"items": lifecycle.accounts()}


@admin_blp.route("/accounts/<string:username>/disable")
class DisableAccount(MethodView):
    @admin_blp.admin_required("admin")
    @admin_blp.response(200, AdminAccountSchema)
    @admin_blp.alt_response(404, description="no such user")
    @admin_blp.alt_response(409, description="one's own account")
    def post(self, username):
        """Disable an account: its sessions end and its tokens are refused at once; audited"""
        return lifecycle.disable(username, actor=g.actor, ip=request.remote_addr)


@admin_blp.route("/accounts/<string:username>/enable")
class EnableAccount(MethodView):
    @admin_blp.admin_required("admin")
    @admin_blp.response(200, AdminAccountSchema)
    @admin_blp.alt_response(404, description="no such user")
    def post(self, username):
        """Enable a disabled account; audited"""
        return lifecycle.enable(username, actor=g.actor, ip=request.remote_addr)


@admin_blp.route("/accounts/<string:username>/reset-password")
class ResetPassword(MethodView):
    @admin_blp.admin_required("admin")
    @admin_blp.response(200, TemporaryPasswordSchema)
    @admin_blp.alt_response(404, description="no such user")
    @admin_blp.alt_response(409, description="one's own account")
    def post(self, username):
        """A temporary password (shown once), changed at the next sign-in; the account's sessions end; audited"""
        temporary = lifecycle.reset_password(username, actor=g.actor, ip=request.remote_addr)
        return {"username": username, "temporary_password": temporary}


@admin_blp.route("/sessions")
class Sessions(MethodView):
    @admin_blp.admin_required("security")
    @admin_blp.response(200, AdminSessionListSchema)
    def get(self):
        """Every live admin page session, the most recently used first (security administrator)"""
        return {"items": sessions.live()}


@admin_blp.route("/sessions/<int(max=2147483647):session_id>")
class Session(MethodView):
    @admin_blp.admin_required("security")
    @admin_blp.response(204)
    @admin_blp.alt_response(404, description="no such live session")
    def delete(self, session_id):
        """End one admin page session; audited"""
        sessions.revoke(session_id, actor=g.actor, ip=request.remote_addr)


@admin_blp.route("/accounts/<string:username>/sessions")
class UserSessions(MethodView):
    @admin_blp.admin_required("security")
    @admin_blp.response(200, RevokedSchema)
    @admin_blp.alt_response(404, description="no such user")
    def delete(self, username):
        """End every admin page session of one user (security administrator); audited"""
        ended = sessions.revoke_all(username, actor=g.actor, ip=request.remote_addr)
        return {"username": username, "sessions_ended": ended}
