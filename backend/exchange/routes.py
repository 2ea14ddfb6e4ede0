from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

from flask import Response, current_app, g, request, send_from_directory
from flask.views import MethodView

from backend.accounts.schemas import TokenRequestSchema, TokenSchema
from backend.errors import NotFound
from backend.extensions.smorest import EXCHANGE_SCHEME, Blueprint

from . import credit, hotline, push, services
from .events import SCHEMAS
from .models import ClientKind
from .schemas import (
    WORK_ORDER_EXAMPLE,
    ChangesArgsSchema,
    ChangesSchema,
    CreditArgsSchema,
    CreditExportSchema,
    IssuedSubscriptionSchema,
    ParkedSubscriptionSchema,
    SatisfactionSchema,
    SubscriptionCreateSchema,
    SubscriptionSchema,
    WorkOrderCreateSchema,
    WorkOrderSchema,
)

blp = Blueprint(
    "exchange",
    __name__,
    url_prefix="/api/v1/exchange",
    description="The changes feed for upper platforms: a region's log entries with proofs, by cursor",
)


def exchange_required(*kinds: ClientKind) -> Callable[[Callable], Callable]:
    """Require the token of an exchange client of one of ``kinds`` (rate-limited per client; another kind's is
    403); the client is then ``g.exchange``."""

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.exchange = services.require_token(request.headers.get("Authorization", ""), *kinds)
            return func(*args, **kwargs)

        wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
        wrapper._apidoc["auth"] = EXCHANGE_SCHEME
        return wrapper

    return decorator


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
    @exchange_required(ClientKind.platform)
    @blp.arguments(ChangesArgsSchema, location="query")
    @blp.response(200, ChangesSchema)
    @blp.alt_response(403, description="a hotline client's token: only platform clients read the feed")
    @blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def get(self, args):
        """The region's changes from cursor `after`, each with its inclusion proof in the page's checkpoint"""
        return services.changes(g.exchange, args["after"], args["limit"], args.get("tree_size"))


SUBSCRIPTION_EXAMPLE = {
    "url": "https://sfj.fujian.gov.cn/hooks/sanxiang",
    "event_types": ["publish", "correct", "withdraw", "expire"],
    "region": "350500",
}


ISSUED_EXAMPLE = {
    "subscription": {
        "id": 7,
        **SUBSCRIPTION_EXAMPLE,
        "state": "active",
        "log_cursor": 1024,
        "pending": 0,
        "created_at": "2026-12-06T14:00:00+08:00",
        "parked_at": None,
    },
    "secret": "o8Yq2c1bQ0b7m1S9lJ3xJ5v3wP1nXcC3W0o0f4m4sGk",
}
# What the receiver gets (OpenAPI callback): push.body_of and push._post make it.
PUSH_CALLBACK = {
    "event": {
        "{$request.body#/url}": {
            "post": {
                "summary": "One event, signed; answer 2xx once applied (dedupe by id: a retry repeats it)",
                "parameters": [
                    {
                        "in": "header",
                        "name": push.EVENT_ID_HEADER,
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                        "description": "the event id, the same on every retry",
                    },
                    {
                        "in": "header",
                        "name": push.TIMESTAMP_HEADER,
                        "required": True,
                        "schema": {"type": "string", "example": "1765000800"},
                        "description": "unix seconds when this attempt was signed",
                    },
                    {
                        "in": "header",
                        "name": push.SIGNATURE_HEADER,
                        "required": True,
                        "schema": {"type": "string", "example": "sha256=3f1c…"},
                        "description": 'sha256=<hex HMAC-SHA256(secret, "{timestamp}.{raw body}")>',
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["id", "type", "created_at", "data"],
                                "properties": {
                                    "id": {"type": "string", "format": "uuid", "description": "the event id"},
                                    "type": {"type": "string", "description": "the event type subscribed to"},
                                    "created_at": {"type": "string", "description": "when it was queued (UTC)"},
                                    "data": {
                                        "type": "object",
                                        "description": "a log event: the feed's change without proof "
                                        "(schemas/{type}.json); workorder.status: the work order's status",
                                    },
                                },
                            },
                            "example": {
                                "id": "0b6c8a52-5d0e-4a35-9a07-3f3c2f0b6a11",
                                "type": "withdraw",
                                "created_at": "2026-12-06T06:00:30.000000Z",
                                "data": {"index": 1031, "event": "withdraw", "agency": "11350500MB0100009X"},
                            },
                        }
                    },
                },
                "responses": {
                    "2XX": {"description": "delivered"},
                    "default": {"description": "retried with a doubling backoff, parked after PUSH_RETRY_HOURS"},
                },
            }
        }
    }
}


@blp.route("/subscriptions")
class Subscriptions(MethodView):
    @exchange_required(ClientKind.platform, ClientKind.hotline)
    @blp.arguments(SubscriptionCreateSchema, example=SUBSCRIPTION_EXAMPLE)
    @blp.response(201, IssuedSubscriptionSchema, example=ISSUED_EXAMPLE)
    @blp.doc(callbacks=PUSH_CALLBACK)
    @blp.alt_response(422, description="a field is wrong (unknown event type, non-https URL, region outside yours)")
    @blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def post(self, body):
        """Subscribe to events of your region pushed to a URL; the signing secret is returned this once"""
        return push.create_subscription(
            g.exchange,
            body["url"],
            body["event_types"],
            body.get("region"),
            actor=f"exchange:{g.exchange.client_id}",
            after=body.get("after"),
        )

    @exchange_required(ClientKind.platform, ClientKind.hotline)
    @blp.response(200, SubscriptionSchema(many=True))
    @blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def get(self):
        """Your live subscriptions"""
        return push.subscriptions_of(g.exchange)


@blp.route("/subscriptions/<int(max=2147483647):subscription_id>")
class Subscription(MethodView):
    @exchange_required(ClientKind.platform, ClientKind.hotline)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(404, description="no such subscription of yours")
    @blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def get(self, subscription_id):
        """One of your subscriptions"""
        return push.subscription_of(g.exchange, subscription_id)

    @exchange_required(ClientKind.platform, ClientKind.hotline)
    @blp.response(204)
    @blp.alt_response(404, description="no such subscription of yours")
    @blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def delete(self, subscription_id):
        """Cancel a subscription: nothing more is sent to it, not even what it was still owed"""
        push.revoke_subscription(g.exchange, subscription_id, actor=f"exchange:{g.exchange.client_id}")


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
    @credit_blp.also_as({"text/csv": "format=csv (the same rows, UTF-8 with a BOM)"})
    def get(self, args):
        """Published penalty or licensing decisions in your region, in the 双公示 data standard (JSON or CSV)"""
        months = current_app.config["CREDIT_PUBLICITY_MONTHS"]
        data = credit.export(
            g.admin, args["type"], args.get("since"), months, after=args.get("after"), limit=args["limit"]
        )
        if args["format"] == "csv":
            name = f"credit-{args['type']}"
            headers = {"Content-Disposition": f"attachment; filename={name}.csv"}
            if data["next"]:
                headers["X-Next-Cursor"] = data["next"]
            return Response(credit.to_csv(data), mimetype="text/csv", headers=headers)
        return data


push_admin_blp = Blueprint(
    "push_admin",
    __name__,
    url_prefix="/api/v1/exchange/push",
    description="Push subscriptions whose delivery failed for the whole retry window, and resuming them",
)


@push_admin_blp.route("/subscriptions")
class ParkedSubscriptions(MethodView):
    @push_admin_blp.admin_required("admin")
    @push_admin_blp.response(200, ParkedSubscriptionSchema(many=True))
    def get(self):
        """Parked subscriptions, each with the delivery that parked it"""
        return push.parked_subscriptions()


@push_admin_blp.route("/subscriptions/<int(max=2147483647):subscription_id>/resume")
class ResumeSubscription(MethodView):
    @push_admin_blp.admin_required("admin")
    @push_admin_blp.response(200, SubscriptionSchema)
    @push_admin_blp.alt_response(404, description="no such subscription")
    def post(self, subscription_id):
        """Resume a parked subscription: its parked delivery is sent again first, with a new retry window"""
        return push.resume(subscription_id, actor=g.actor, ip=request.remote_addr)


hotline_blp = Blueprint(
    "hotline",
    __name__,
    url_prefix="/api/v1/hotline",
    description="12345 work orders: the hotline files complaints and rates them; status changes are pushed back",
)


@hotline_blp.route("/work-orders")
class WorkOrders(MethodView):
    @exchange_required(ClientKind.hotline)
    @hotline_blp.arguments(WorkOrderCreateSchema, example=WORK_ORDER_EXAMPLE)
    @hotline_blp.response(201, WorkOrderSchema, description="filed as a complaint and routed")
    @hotline_blp.alt_response(200, schema=WorkOrderSchema, description="this order was received before: the same")
    @hotline_blp.alt_response(403, description="a platform client's token, or a region or agency outside yours")
    @hotline_blp.alt_response(409, description="this order number was received with a different body")
    @hotline_blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def post(self, body):
        """File a 12345 work order as a complaint (idempotent by order_no)"""
        received = hotline.receive(g.exchange, body, ip=request.remote_addr)
        return received.order, 201 if received.created else 200


@hotline_blp.route("/work-orders/<string:order_no>")
class WorkOrder(MethodView):
    @exchange_required(ClientKind.hotline)
    @hotline_blp.response(200, WorkOrderSchema)
    @hotline_blp.alt_response(403, description="a platform client's token")
    @hotline_blp.alt_response(404, description="no work order of this number from this hotline")
    @hotline_blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def get(self, order_no):
        """A work order's status, deadlines and handling agency"""
        return hotline.filed_order(g.exchange, order_no)


@hotline_blp.route("/work-orders/<string:order_no>/satisfaction")
class Satisfaction(MethodView):
    @exchange_required(ClientKind.hotline)
    @hotline_blp.arguments(SatisfactionSchema, example={"result": "basically_satisfied", "comment": "处理较及时"})
    @hotline_blp.response(200, WorkOrderSchema)
    @hotline_blp.alt_response(403, description="a platform client's token")
    @hotline_blp.alt_response(404, description="no work order of this number from this hotline")
    @hotline_blp.alt_response(409, description="not closed yet, or already rated")
    @hotline_blp.alt_response(429, description="over the client's rate limit; see Retry-After")
    def post(self, body, order_no):
        """The hotline's 回访满意度 for a closed work order; it becomes the complaint's rating"""
        return hotline.rate(g.exchange, order_no, body["result"], body.get("comment"))
