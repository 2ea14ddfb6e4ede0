from flask import request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import services
from .schemas import (
    ComplaintCreateSchema,
    ComplaintViewSchema,
    FiledSchema,
    QueryCodeSchema,
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


@blp.route("/<string:tracking_no>")
class ComplaintByNumber(MethodView):
    @blp.arguments(QueryCodeSchema, location="query")
    @blp.response(200, ComplaintViewSchema)
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
