from flask import request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import evidence, services
from .schemas import (
    ComplaintCreateSchema,
    ComplaintViewSchema,
    EvidenceReceiptSchema,
    EvidenceUploadSchema,
    FiledSchema,
    QueryCodeHeaderSchema,
    RatingSchema,
    ReopenSchema,
)

NO_COMPLAINT = "no complaint with this tracking number and query code"

blp = Blueprint("complaints", __name__, url_prefix="/api/v1/complaints", description="投诉举报: file and follow")


@blp.route("")
class Complaints(MethodView):
    @blp.arguments(
        ComplaintCreateSchema,
        example={
            "category": "no_credential",
            "content": "执法人员现场检查时未出示执法证件，拒绝告知姓名。",
            "badge_no": "35050021001",
            "place": "泉州市鲤城区中山中路123号",
            "occurred_at": "2026-11-20T15:30:00+08:00",
            "contact_phone": "13905951234",
        },
    )
    @blp.response(201, FiledSchema, description="filed; keep the query code")
    @blp.alt_response(200, schema=FiledSchema, description="the same complaint was just filed: here it is again")
    @blp.alt_response(409, description="no tracking number could be drawn this time: send it again")
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
    @blp.alt_response(404, description=NO_COMPLAINT)
    def get(self, args, tracking_no):
        """Status and public timeline, for whoever holds the query code (a wrong code answers 404)"""
        return services.citizen_view(services.for_citizen(tracking_no, args["code"]))


@blp.route("/<string:tracking_no>/rating")
class Rating(MethodView):
    @blp.arguments(RatingSchema, example={"code": "K7M2Q9", "score": 4, "comment": "处理及时"})
    @blp.response(200, ComplaintViewSchema)
    @blp.alt_response(404, description=NO_COMPLAINT)
    @blp.alt_response(409, description="not closed yet, or already rated")
    def post(self, body, tracking_no):
        """Rate the handling (1-5) once the complaint is closed"""
        complaint = services.for_citizen(tracking_no, body["code"])
        return services.citizen_view(services.rate(complaint, body["score"], body.get("comment")))


@blp.route("/<string:tracking_no>/reopen")
class Reopen(MethodView):
    @blp.arguments(ReopenSchema, example={"code": "K7M2Q9", "reason": "答复未说明是否对执法人员作出处理"})
    @blp.response(200, ComplaintViewSchema)
    @blp.alt_response(404, description=NO_COMPLAINT)
    @blp.alt_response(409, description="not closed, reopened once already, or more than 15 days after closure")
    def post(self, body, tracking_no):
        """Reopen a closed complaint, once, within 15 days"""
        complaint = services.for_citizen(tracking_no, body["code"])
        return services.citizen_view(services.reopen(complaint, body["reason"]))


@blp.route("/<string:tracking_no>/evidence")
class Evidence(MethodView):
    @blp.arguments(QueryCodeHeaderSchema, location="headers")
    @blp.arguments(EvidenceUploadSchema, location="files")
    @blp.response(201, EvidenceReceiptSchema, description="kept; only the handlers of the agency can read it")
    @blp.alt_response(404, description=NO_COMPLAINT)
    @blp.alt_response(409, description="the complaint was replied to or closed: no more evidence")
    @blp.alt_response(413, description="the file is larger than COMPLAINT_EVIDENCE_MAX_BYTES")
    @blp.alt_response(422, description="not a JPEG, PNG, WebP image or a PDF by its content, or too many files")
    def post(self, args, files, tracking_no):
        """Add one evidence file (multipart field `evidence`) to a complaint being worked"""
        complaint = services.for_citizen(tracking_no, args["code"])
        return evidence.add_to_filed(complaint, files.get("evidence"), channel="web"), 201
