from flask import g, request
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import policy, services
from .schemas import (
    AppendedSchema,
    CaseDomainsSchema,
    CasePutSchema,
    CaseSchema,
    ChainSchema,
    OpinionSchema,
    RecordsPostSchema,
    ReviewerPutSchema,
    ReviewerSchema,
    ReviewListSchema,
    ReviewSchema,
    ReviewSubmitSchema,
)

blp = Blueprint(
    "cases",
    __name__,
    url_prefix="/api/v1/publish",
    description="Cases: full-process records and legal review (an agency's own cases only)",
)


def case_view(case):
    return {
        **{
            k: getattr(case, k)
            for k in (
                "case_no",
                "category",
                "major",
                "matter",
                "matter_code",
                "major_since",
                "officers",
                "subject_type",
                "subject_name",
                "opened_on",
                "record_count",
                "head_hash",
            )
        },
        "is_major": policy.is_major(case),
    }


@blp.route("/cases/<string:case_no>")
class OwnCase(MethodView):
    @blp.agency_required
    @blp.arguments(CasePutSchema)
    @blp.response(200, CaseSchema, description="updated, or unchanged")
    @blp.alt_response(201, schema=CaseSchema, description="created")
    def put(self, data, case_no):
        """Create or update a case (idempotent)"""
        case, outcome = services.upsert_case(g.agency, case_no, data)
        return case_view(case), 201 if outcome == "created" else 200

    @blp.agency_required
    @blp.response(200, CaseSchema)
    def get(self, case_no):
        """One of the agency's cases"""
        return case_view(services.get_own(g.agency, case_no))


@blp.route("/cases/<string:case_no>/records")
class CaseRecords(MethodView):
    @blp.agency_required
    @blp.arguments(RecordsPostSchema)
    @blp.response(201, AppendedSchema)
    def post(self, body, case_no):
        """Append records (one or many, in order) to the case's hash chain

        Every badge must be a registered officer whose credential was active and valid at the record's time:
        otherwise 422, under ``errors.json.records.<index>.officers``, naming the badge and why."""
        appended = services.append_records(g.agency, case_no, body["records"], g.actor)
        # Only what was appended: re-reading the whole chain here would make appends quadratic.
        return {
            "case_no": case_no,
            "record_count": appended[-1]["seq"],
            "head_hash": appended[-1]["hash"],
            "records": appended,
        }

    @blp.agency_required
    @blp.response(200, ChainSchema)
    def get(self, case_no):
        """The case's records as a chain, every hash recomputed, with audio-video and 24-hour flags"""
        return services.records_view(services.get_own(g.agency, case_no))


@blp.route("/settings/case-domains")
class CaseDomains(MethodView):
    @blp.agency_required
    @blp.arguments(CaseDomainsSchema)
    @blp.response(200, CaseDomainsSchema)
    def put(self, body):
        """Declare, per case category, the enforcement domains whose officers may record in its cases (replaces all)"""
        return {"domains": services.set_case_domains(g.agency, body["domains"], g.actor, ip=request.remote_addr)}

    @blp.agency_required
    @blp.response(200, CaseDomainsSchema)
    def get(self):
        """The enforcement domains the agency declared per case category"""
        return {"domains": g.agency.case_domains or {}}


@blp.route("/reviewers/<string:badge_no>")
class Reviewer(MethodView):
    @blp.agency_required
    @blp.arguments(ReviewerPutSchema)
    @blp.response(200, ReviewerSchema)
    def put(self, body, badge_no):
        """Register (or retire, active=false) a legal reviewer of the agency"""
        return services.register_reviewer(g.agency, badge_no, body["name"], body["active"])


@blp.route("/cases/<string:case_no>/reviews")
class CaseReviews(MethodView):
    @blp.agency_required
    @blp.arguments(ReviewSubmitSchema)
    @blp.response(201, ReviewSchema)
    def post(self, body, case_no):
        """Submit the case for legal review, with a statement for every checklist item"""
        return services.submit_review(g.agency, case_no, body["checklist"], g.actor)

    @blp.agency_required
    @blp.response(200, ReviewListSchema)
    def get(self, case_no):
        """Every submission and opinion, in order"""
        return {"reviews": services.reviews(services.get_own(g.agency, case_no))}


@blp.route("/cases/<string:case_no>/reviews/<int(max=2147483647):number>/opinion")
class ReviewOpinion(MethodView):
    @blp.agency_required
    @blp.arguments(OpinionSchema)
    @blp.response(200, ReviewSchema)
    def post(self, body, case_no, number):
        """The reviewer's opinion: approve / reject / revise, with a reason per item"""
        return services.record_opinion(
            g.agency,
            case_no,
            number,
            reviewer_badge=body["reviewer"],
            outcome=body["outcome"],
            reasons=body["reasons"],
            comment=body.get("comment"),
        )
