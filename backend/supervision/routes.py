from flask import Response, current_app, g, request
from flask.views import MethodView

from backend.accounts import totp
from backend.accounts.schemas import TokenSchema
from backend.agencies.services import get_agency
from backend.disclosures.schemas import DisclosureSchema
from backend.extensions.smorest import Blueprint

from . import annual, case_reads, evaluation, negative_list, reviewers, services
from .evaluation_models import DEFAULT_SHEET
from .schemas import (
    AdminTokenRequestSchema,
    AgencySettingsSchema,
    AnnualArgsSchema,
    AnnualReportSchema,
    CaseFileSchema,
    CaseListArgsSchema,
    CaseListSchema,
    CaseReadsArgsSchema,
    CaseReadsSchema,
    DisclosureChangesArgsSchema,
    DisclosureChangesSchema,
    EvaluationAssignmentsSchema,
    EvaluationCaseSchema,
    EvaluationResultsSchema,
    EvaluationRoundRequestSchema,
    EvaluationRoundSchema,
    EvaluationScoreRequestSchema,
    MatterRankingArgsSchema,
    MatterRankingSchema,
    NegativeListArgsSchema,
    NegativeListPublishSchema,
    NegativeListSchema,
    RegionalReportSchema,
    ReportsCasesSchema,
    ReviewerRegistrySchema,
    SummaryArgsSchema,
    SummarySchema,
)

blp = Blueprint("admin", __name__, url_prefix="/api/v1/admin", description="Admin API: handlers and supervisors")


@blp.route("/auth/token")
class AdminToken(MethodView):
    @blp.arguments(AdminTokenRequestSchema, example={"username": "lin.sfj", "password": "a long password 1"})
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="wrong username or password, or a missing, wrong or used `otp`")
    @blp.alt_response(403, description="the password is temporary or expired: change it in the admin page first")
    @blp.alt_response(429, description="too many failures; see Retry-After")
    def post(self, credentials):
        """Exchange an admin user's password (and second-factor code) for a short-lived bearer token"""
        return totp.admin_token(
            credentials["username"], credentials["password"], request.remote_addr, credentials.get("otp")
        )


@blp.route("/disclosure-changes")
class DisclosureChanges(MethodView):
    @blp.admin_required("supervisor", "admin", "handler")
    @blp.arguments(DisclosureChangesArgsSchema, location="query")
    @blp.response(200, DisclosureChangesSchema)
    def get(self, args):
        """Every correction, withdrawal and expiry in your scope, with who, when and why"""
        return services.disclosure_changes(g.admin, **args)


@blp.route("/agencies/<string:code>/settings/reports-cases")
class ReportsCases(MethodView):
    @blp.admin_required("supervisor", "admin")
    @blp.arguments(
        ReportsCasesSchema, example={"reports_cases": True, "reason": "该局已接入执法办案系统，案件全程记录报送"}
    )
    @blp.response(200, AgencySettingsSchema)
    @blp.alt_response(404, description="no such agency under your supervision")
    def put(self, body, code):
        """Set whether an agency reports cases (its decisions then name their case); audited and logged"""
        return services.set_reports_cases(g.admin, code, body["reports_cases"], body["reason"], ip=request.remote_addr)


supervision_blp = Blueprint(
    "supervision", __name__, url_prefix="/api/v1", description="Supervision figures computed from the data"
)


@supervision_blp.route("/supervision/summary")
class Summary(MethodView):
    @supervision_blp.admin_required("supervisor", "admin", "handler")
    @supervision_blp.arguments(SummaryArgsSchema, location="query")
    @supervision_blp.response(200, SummarySchema)
    def get(self, args):
        """公示率 per agency, overdue items, flagged cases, unreviewed major decisions, complaints, withdrawals"""
        return services.summary(g.admin, **args)


@supervision_blp.route("/supervision/reviewers")
class ReviewerRegistry(MethodView):
    @supervision_blp.admin_required("supervisor", "admin", audit_reads=False)  # registry() audits it
    @supervision_blp.response(200, ReviewerRegistrySchema)
    def get(self):
        """Filed legal reviewers (备案) in your scope, and each agency's reviewers against 5% of its officers"""
        return reviewers.registry(g.admin, ip=request.remote_addr)


@supervision_blp.route("/supervision/cases")
class SupervisedCases(MethodView):
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.arguments(CaseListArgsSchema, location="query")
    @supervision_blp.response(200, CaseListSchema)
    def get(self, args):
        """Cases in your region and the divisions below it, by agency, case number and opening date"""
        return case_reads.list_cases(g.admin, **args)


@supervision_blp.route("/supervision/cases/<string:agency>/<string:case_no>")
class SupervisedCase(MethodView):
    @supervision_blp.admin_required("supervisor", "admin", audit_reads=False)  # read_case audits it in full
    @supervision_blp.response(200, CaseFileSchema)
    @supervision_blp.alt_response(404, description="no such case in your scope (another region's too)")
    def get(self, agency, case_no):
        """实时调阅: a case's records with the chain checked, flags, reviews, decision disclosures and complaints

        Every read is audited; the agency lists them at GET /api/v1/publish/case-reads."""
        return case_reads.read_case(g.admin, agency, case_no, via="api", ip=request.remote_addr)


case_reads_blp = Blueprint(
    "case_reads", __name__, url_prefix="/api/v1/publish", description="Who read the agency's cases (实时调阅)"
)


@case_reads_blp.route("/case-reads")
class CaseReads(MethodView):
    @case_reads_blp.agency_required
    @case_reads_blp.arguments(CaseReadsArgsSchema, location="query")
    @case_reads_blp.response(200, CaseReadsSchema)
    def get(self, args):
        """Every read of your cases by a supervisor or admin, latest first: who (username, role, region), when, which"""
        return case_reads.reads_of_agency(g.agency, **args)


@supervision_blp.route("/supervision/evaluations")
class EvaluationRounds(MethodView):
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.arguments(
        EvaluationRoundRequestSchema,
        example={
            "region": "350500",
            "date_from": "2026-01-01",
            "date_to": "2026-06-30",
            "sample_percent": 5,
            "evaluators": ["lin.sfj", "chen.observer"],
        },
    )
    @supervision_blp.response(201, EvaluationRoundSchema)
    def post(self, body):
        """Start a 案卷评查 round: announced in the log, then drawn from the first checkpoint after (README recipe)"""
        made = evaluation.create_round(g.admin, body, ip=request.remote_addr)
        return evaluation.public_round(made.id)


@supervision_blp.route("/supervision/evaluations/assignments")
class EvaluationAssignments(MethodView):
    @supervision_blp.admin_required("supervisor", "observer")
    @supervision_blp.response(200, EvaluationAssignmentsSchema)
    def get(self):
        """The sampled cases assigned to you, unscored first (observers and supervisors)"""
        return {"assignments": evaluation.assignments(g.admin)}


@supervision_blp.route("/supervision/evaluations/<int(max=2147483647):round_id>/cases/<int(max=100000):rank>/score")
class EvaluationScore(MethodView):
    @supervision_blp.admin_required("supervisor", "observer")
    @supervision_blp.arguments(
        EvaluationScoreRequestSchema,
        example={"scores": {item["key"]: {"score": item["points"], "comment": ""} for item in DEFAULT_SHEET}},
    )
    @supervision_blp.response(200, EvaluationCaseSchema)
    @supervision_blp.alt_response(404, description="no such case of the round assigned to you")
    @supervision_blp.alt_response(409, description="already scored")
    def post(self, body, round_id, rank):
        """Score a case assigned to you: every sheet item up to its points, a comment for each deduction; once"""
        return evaluation.score(
            g.admin, evaluation.assigned(g.admin, round_id, rank), body["scores"], ip=request.remote_addr
        )


@supervision_blp.route("/supervision/evaluations/<int(max=2147483647):round_id>")
class EvaluationRound(MethodView):
    @supervision_blp.response(200, EvaluationRoundSchema)
    @supervision_blp.alt_response(404, description="no such evaluation round")
    def get(self, round_id):
        """Public: a round's parameters, checkpoint, eligible cases and sample, to recompute the draw"""
        return evaluation.public_round(round_id)


@supervision_blp.route("/supervision/evaluations/<int(max=2147483647):round_id>/results")
class EvaluationResults(MethodView):
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.response(200, EvaluationResultsSchema)
    @supervision_blp.alt_response(404, description="no such evaluation round in your region")
    def get(self, round_id):
        """A round's scores per agency: cases evaluated, mean score, points deducted per sheet item"""
        return evaluation.round_results(evaluation.round_for(g.admin, round_id))


@supervision_blp.route("/supervision/negative-list")
class NegativeList(MethodView):
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.arguments(NegativeListArgsSchema, location="query")
    @supervision_blp.response(200, NegativeListSchema)
    def get(self, args):
        """负面清单 in your scope: each matter's entry, the figures that put it on, when it left"""
        return negative_list.entries(g.admin, **args)


@supervision_blp.route("/supervision/negative-list/matters")
class MatterRanking(MethodView):
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.arguments(MatterRankingArgsSchema, location="query")
    @supervision_blp.response(200, MatterRankingSchema)
    def get(self, args):
        """Matters in your scope ranked by complaints, corrections, withdrawals, overdue acts over a period"""
        thresholds = negative_list.Thresholds.from_config(current_app.config)
        return {"items": negative_list.ranking(g.admin, thresholds, **args)}


@supervision_blp.route("/supervision/negative-list/publish")
class NegativeListPublish(MethodView):
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.arguments(NegativeListPublishSchema, example={"agency": "11350500MB0C1234XK"})
    @supervision_blp.response(200, DisclosureSchema)
    @supervision_blp.alt_response(404, description="no such 司法行政部门 in your scope")
    def post(self, body):
        """Publish the current 负面清单 of a 司法行政部门's region as its negative_list disclosure; audited"""
        return negative_list.publish(g.admin, body["agency"], ip=request.remote_addr)


# The reports' other formats besides JSON (format=…), documented under the same 200.
REPORT_FORMATS = {
    "text/csv": "format=csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "format=xlsx",
}


@supervision_blp.route("/agencies/<string:code>/annual-report")
class AnnualReport(MethodView):
    @supervision_blp.arguments(AnnualArgsSchema, location="query")
    @supervision_blp.response(200, AnnualReportSchema)
    @supervision_blp.also_as(REPORT_FORMATS)
    @supervision_blp.alt_response(404, description="no agency with that code")
    def get(self, args, code):
        """An agency's enforcement statistics for a year, computed from stored data (JSON, CSV or XLSX)"""
        return _in_format(annual.report(get_agency(code), args["year"]), f"{code}-{args['year']}-annual-report", args)


@supervision_blp.route("/agencies/<string:code>/regional-report")
class RegionalReport(MethodView):
    @supervision_blp.arguments(AnnualArgsSchema, location="query")
    @supervision_blp.response(200, RegionalReportSchema)
    @supervision_blp.also_as(REPORT_FORMATS)
    @supervision_blp.alt_response(404, description="no such agency, or it is not a 司法行政部门")
    def get(self, args, code):
        """A 司法行政部门's region totals for a year, and which agencies have published their report, which late"""
        data = annual.regional_report(get_agency(code), args["year"])
        return _in_format(data, f"{code}-{args['year']}-regional-report", args)


def _in_format(data: dict, name: str, args: dict) -> dict | Response:
    """The report as JSON (dumped by the view's schema), or as a CSV or XLSX download."""
    if args["format"] == "csv":
        return Response(
            annual.to_csv(data),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment; filename={name}.csv"},
        )
    if args["format"] == "xlsx":
        return Response(
            annual.to_xlsx(data),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
        )
    return data
