from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Response, current_app, g, request, send_from_directory
from flask.views import MethodView

from backend.accounts.schemas import TokenRequestSchema, TokenSchema
from backend.errors import NotFound
from backend.extensions.smorest import EXCHANGE_SCHEME, Blueprint

from . import credit, services
from .schemas import ChangesArgsSchema, ChangesSchema, CreditArgsSchema, CreditExportSchema

SCHEMAS = Path(__file__).parent / "json_schemas"

blp = Blueprint(
    "exchange",
    __name__,
    url_prefix="/api/v1/exchange",
    description="The changes feed for upper platforms: a region's log entries with proofs, by cursor",
)


def exchange_required(func: Callable) -> Callable:
    """Require an exchange client's token (rate-limited per client); the client is then ``g.exchange``."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.exchange = services.require_token(request.headers.get("Authorization", ""))
        return func(*args, **kwargs)

    wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
    wrapper._apidoc["auth"] = EXCHANGE_SCHEME
    return wrapper


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(
        TokenRequestSchema, example={"client_id": "qz-upper-platform", "client_secret": "s3cr3t-printed-once"}
    )
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="wrong client id or secret")
    @blp.alt_response(429, description="too many failures; see Retry-After")
    def post(self, credentials):
        """Exchange an exchange client's credentials for a short-lived bearer token"""
        return services.issue_token(credentials["client_id"], credentials["client_secret"], request.remote_addr)


@blp.route("/changes")
class Changes(MethodView):
    @exchange_required
    @blp.arguments(ChangesArgsSchema, location="query")
    @blp.response(200, ChangesSchema)
    @blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def get(self, args):
        """The region's changes from cursor `after`, each with its inclusion proof in the page's checkpoint"""
        return services.changes(g.exchange, args["after"], args["limit"], args.get("tree_size"))


@blp.route("/schemas/<string:name>.json")
class EventSchema(MethodView):
    @blp.without_storage
    @blp.response(200, description="a JSON Schema (draft 2020-12)")
    @blp.alt_response(404, description="no event type of that name")
    def get(self, name):
        """The JSON Schema of one event type (`change` is the envelope every event shares)"""
        if not (SCHEMAS / f"{name}.json").is_file():
            raise NotFound("未找到该模式", errors={"name": [f"no schema {name!r}"]})
        return send_from_directory(SCHEMAS, f"{name}.json", mimetype="application/schema+json")


credit_blp = Blueprint(
    "credit",
    __name__,
    url_prefix="/api/v1/exchange",
    description="信用中国 双公示: licensing and penalty decisions in the credit platform's data standard",
)


@credit_blp.route("/credit")
class CreditExport(MethodView):
    @credit_blp.admin_required("supervisor", "admin")
    @credit_blp.arguments(CreditArgsSchema, location="query")
    @credit_blp.response(200, CreditExportSchema)
    @credit_blp.alt_response(200, content_type="text/csv", description="format=csv: the same, UTF-8 with a BOM")
    def get(self, args):
        """Published penalty or licensing decisions in your region, in the 双公示 data standard (JSON or CSV)"""
        months = current_app.config["CREDIT_PUBLICITY_MONTHS"]
        data = credit.export(g.admin, args["type"], args.get("since"), months)
        if args["format"] == "csv":
            name = f"credit-{args['type']}"
            return Response(
                credit.to_csv(data),
                mimetype="text/csv",
                headers={"Content-Disposition": f"attachment; filename={name}.csv"},
            )
        return data
