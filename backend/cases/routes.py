from flask import g, request
from flask.views import MethodView

from backend.errors import Forbidden
from backend.extensions.smorest import Blueprint

from . import examples, policy, reviews, services
from .schemas import (
    AppendedSchema,
    CaseDomainsSchema,
    CasePutSchema,
    CaseSchema,
    ChainSchema,
    OpinionSchema,
    QueueSchema,
    RecordsPostSchema,
    ReviewCaseSchema,
    ReviewerPutSchema,
    ReviewerSchema,
    ReviewListSchema,
    ReviewSchema,
    ReviewSubmitSchema,
    ReviewWithdrawSchema,
)

CASE_NOT_FOUND = "no such case of the agency (another agency's case is not found either)"

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
    @blp.arguments(CasePutSchema, example=examples.CASE)
    @blp.response(200, CaseSchema, description="updated, or unchanged")
    @blp.alt_response(201, schema=CaseSchema, description="created")
    def put(self, data, case_no):
        """Create or update a case (idempotent)"""
        case, outcome = services.upsert_case(g.agency, case_no, data)
        return case_view(case), 201 if outcome == "created" else 200

    @blp.agency_required
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, description=CASE_NOT_FOUND)
    def get(self, case_no):
        """One of the agency's cases"""
        return case_view(services.get_own(g.agency, case_no))


@blp.route("/cases/<string:case_no>/records")
class CaseRecords(MethodView):
    @blp.agency_required
    @blp.arguments(RecordsPostSchema, example=examples.RECORDS)
    @blp.response(201, AppendedSchema)
    @blp.alt_response(404, description=CASE_NOT_FOUND)
    @blp.alt_response(409, description="a decision record of a major case before its legal review approved it")
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
    @blp.alt_response(404, description=CASE_NOT_FOUND)
    def get(self, case_no):
        """The case's records as a chain, every hash recomputed, with audio-video and 24-hour flags"""
        return services.records_view(services.get_own(g.agency, case_no))


@blp.route("/settings/case-domains")
class CaseDomains(MethodView):
    @blp.agency_required
    @blp.arguments(CaseDomainsSchema, example=examples.CASE_DOMAINS)
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
    @blp.arguments(ReviewerPutSchema, example=examples.REVIEWER)
    @blp.response(200, ReviewerSchema)
    def put(self, body, badge_no):
        """File (备案) a legal reviewer of the agency with its 司法局, or retire one (active=false)

        The reviewer then signs in as an admin user of role ``reviewer`` with this agency and badge."""
        return reviews.register_reviewer(g.agency, badge_no, body, g.actor)


@blp.route("/cases/<string:case_no>/reviews")
class CaseReviews(MethodView):
    @blp.agency_required
    @blp.arguments(ReviewSubmitSchema, example=examples.REVIEW)
    @blp.response(201, ReviewSchema)
    @blp.alt_response(404, description=CASE_NOT_FOUND)
    @blp.alt_response(409, description="the case's last submission still awaits its opinion")
    @blp.catch_integrity_error
    def post(self, body, case_no):
        """Submit the case for legal review: a statement for every checklist item and the required materials

        Due REVIEW_DAYS working days later; audited and appended to the transparency log."""
        return reviews.submit(g.agency, case_no, body, g.actor, request.remote_addr)

    @blp.agency_required
    @blp.response(200, ReviewListSchema)
    @blp.alt_response(404, description=CASE_NOT_FOUND)
    def get(self, case_no):
        """Every submission and opinion, in order"""
        return {"reviews": reviews.reviews(services.get_own(g.agency, case_no))}


@blp.route("/reviews")
class PendingReviews(MethodView):
    @blp.agency_required
    @blp.response(200, ReviewListSchema)
    def get(self):
        """The agency's submissions awaiting an opinion, most urgent first (``overdue`` flags the late ones)"""
        return {"reviews": reviews.pending_of_agency(g.agency)}


@blp.route("/cases/<string:case_no>/reviews/<int(max=2147483647):number>/withdraw")
class WithdrawReview(MethodView):
    @blp.agency_required
    @blp.arguments(ReviewWithdrawSchema, example=examples.REVIEW_WITHDRAW)
    @blp.response(200, ReviewSchema)
    @blp.alt_response(404, description="no such case of the agency, or no such submission of the case")
    @blp.alt_response(409, description="the submission already has its opinion, or was withdrawn")
    def post(self, body, case_no, number):
        """Withdraw a submission still awaiting its opinion (audited, logged)"""
        return reviews.withdraw(g.agency, case_no, number, body["reason"], g.actor, request.remote_addr)


@blp.route("/cases/<string:case_no>/reviews/<int(max=2147483647):number>/opinion")
class AgencyOpinion(MethodView):
    @blp.agency_required
    @blp.alt_response(403, description="always: opinions are given by the signed-in reviewer")
    def post(self, case_no, number):
        """Refused: an agency's case system cannot give an opinion (use the reviewer API or the admin page)"""
        raise Forbidden(
            "法制审核意见须由备案的审核人员本人登录出具，承办机构的系统不能代为出具",
            errors={
                "reviewer": [
                    "opinions are given by the signed-in reviewer: "
                    "POST /api/v1/review/cases/{agency}/{case_no}/{number}/opinion with a reviewer's token"
                ]
            },
        )


review_blp = Blueprint(
    "review",
    __name__,
    url_prefix="/api/v1/review",
    description="Legal review (法制审核) by a signed-in, filed reviewer: the queue, the case, the opinion",
)
REVIEWER = ("reviewer",)


@review_blp.route("/queue")
class Queue(MethodView):
    @review_blp.admin_required(*REVIEWER)
    @review_blp.response(200, QueueSchema)
    def get(self):
        """Submissions awaiting your opinion (your agency's; a 司法局's reviewer: its region's), most urgent first"""
        return {"reviews": reviews.queue(g.admin)}


@review_blp.route("/cases/<string:agency>/<string:case_no>/<int(max=2147483647):number>")
class ReviewedCase(MethodView):
    @review_blp.admin_required(*REVIEWER)
    @review_blp.response(200, ReviewCaseSchema)
    @review_blp.alt_response(404, description="no such submission for you to review")
    def get(self, agency, case_no, number):
        """The case, its records and the submission, as the reviewer reads them"""
        review = reviews.for_reviewer(g.admin, agency, case_no, number)
        return {"case": review.case, "records": reviews.case_records(review.case), "review": review}


@review_blp.route("/cases/<string:agency>/<string:case_no>/<int(max=2147483647):number>/opinion")
class Opinion(MethodView):
    @review_blp.admin_required(*REVIEWER)
    @review_blp.arguments(OpinionSchema, example=examples.OPINION)
    @review_blp.response(200, ReviewSchema)
    @review_blp.alt_response(404, description="no such submission for you to review")
    @review_blp.alt_response(409, description="a case you worked on, or a submission decided or withdrawn")
    def post(self, body, agency, case_no, number):
        """Your opinion: approve / reject / revise, with a reason per checklist item (audited, logged)

        Refused (409) on a case you worked, or once decided or withdrawn."""
        review = reviews.for_reviewer(g.admin, agency, case_no, number)
        return reviews.give_opinion(g.admin, review, body, request.remote_addr)
