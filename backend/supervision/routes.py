from flask import Response, current_app, g, request
from flask.views import MethodView

from backend.accounts import services as accounts
from backend.accounts.schemas import TokenSchema
from backend.agencies.services import get_agency
from backend.disclosures.schemas import DisclosureSchema
from backend.extensions.smorest import Blueprint

from . import annual, negative_list, reviewers, services
from .schemas import (
    AdminTokenRequestSchema,
    AgencySettingsSchema,
    AnnualArgsSchema,
    AnnualReportSchema,
    DisclosureChangesArgsSchema,
    DisclosureChangesSchema,
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
    @blp.arguments(AdminTokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="wrong username or password")
    @blp.alt_response(429, description="too many failures; see Retry-After")
    def post(self, credentials):
        """Exchange an admin user's password for a short-lived bearer token"""
        return accounts.issue_admin_token(credentials["username"], credentials["password"], request.remote_addr)


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
    @blp.arguments(ReportsCasesSchema)
    @blp.response(200, AgencySettingsSchema)
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
    @supervision_blp.admin_required("supervisor", "admin")
    @supervision_blp.response(200, ReviewerRegistrySchema)
    def get(self):
        """Filed legal reviewers (备案) in your scope, and each agency's reviewers against 5% of its officers"""
        return reviewers.registry(g.admin, ip=request.remote_addr)


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
    @supervision_blp.arguments(NegativeListPublishSchema)
    @supervision_blp.response(200, DisclosureSchema)
    @supervision_blp.alt_response(404, description="no such 司法行政部门 in your scope")
    def post(self, body):
        """Publish the current 负面清单 of a 司法行政部门's region as its negative_list disclosure; audited"""
        return negative_list.publish(g.admin, body["agency"], ip=request.remote_addr)


@supervision_blp.route("/agencies/<string:code>/annual-report")
class AnnualReport(MethodView):
    @supervision_blp.arguments(AnnualArgsSchema, location="query")
    @supervision_blp.response(200, AnnualReportSchema)
    @supervision_blp.alt_response(200, content_type="text/csv", description="format=csv")
    def get(self, args, code):
        """An agency's enforcement statistics for a year, computed from stored data (JSON, CSV or XLSX)"""
        return _in_format(annual.report(get_agency(code), args["year"]), f"{code}-{args['year']}-annual-report", args)


@supervision_blp.route("/agencies/<string:code>/regional-report")
class RegionalReport(MethodView):
    @supervision_blp.arguments(AnnualArgsSchema, location="query")
    @supervision_blp.response(200, RegionalReportSchema)
    @supervision_blp.alt_response(200, content_type="text/csv", description="format=csv")
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
