from flask import g, request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import services
from .schemas import TokenRequestSchema, TokenSchema, WhoAmISchema

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
