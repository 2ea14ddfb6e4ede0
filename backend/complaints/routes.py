from flask import request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import services
from .schemas import (
    ComplaintCreateSchema,
    ComplaintViewSchema,
    FiledSchema,
    QueryCodeHeaderSchema,
    RatingSchema,
    ReopenSchema,
)

blp = Blueprint("complaints", __name__, url_prefix="/api/v1/complaints", description="投诉举报: file and follow")


@blp.route("")
class Complaints(MethodView):
    @blp.arguments(ComplaintCreateSchema)
    @blp.response(201, FiledSchema, description="filed; keep the query code")
    @blp.alt_response(200, schema=FiledSchema, description="the same complaint was just filed: here it is again")
    @blp.alt_response(429, description="too many complaints from this address")
    def post(self, data):
        """File a complaint; it is routed to the agency it is about"""
        services.limit_submissions(request.remote_addr)
        filed = services.submit(data, channel="web")
        return services.filed_view(filed), 201 if filed.created else 200


@blp.before_request
def no_code_in_url():
    """Before any argument is parsed: a query code in the URL is refused on every route, whatever else is wrong."""
    services.refuse_code_in_url(request.args)


@blp.route("/<string:tracking_no>")
class ComplaintByNumber(MethodView):
    @blp.arguments(QueryCodeHeaderSchema, location="headers")
    @blp.response(200, ComplaintViewSchema)
    @blp.alt_response(400, description="a `code` in the query string: the query code travels in X-Query-Code")
    def get(self, args, tracking_no):
        """Status and public timeline, for whoever holds the query code (a wrong code answers 404)"""
        return services.citizen_view(services.for_citizen(tracking_no, args["code"]))


@blp.route("/<string:tracking_no>/rating")
class Rating(MethodView):
    @blp.arguments(RatingSchema)
    @blp.response(200, ComplaintViewSchema)
    def post(self, body, tracking_no):
        """Rate the handling (1-5) once the complaint is closed"""
        complaint = services.for_citizen(tracking_no, body["code"])
        return services.citizen_view(services.rate(complaint, body["score"], body.get("comment")))


@blp.route("/<string:tracking_no>/reopen")
class Reopen(MethodView):
    @blp.arguments(ReopenSchema)
    @blp.response(200, ComplaintViewSchema)
    def post(self, body, tracking_no):
        """Reopen a closed complaint, once, within 15 days"""
        complaint = services.for_citizen(tracking_no, body["code"])
        return services.citizen_view(services.reopen(complaint, body["reason"]))
