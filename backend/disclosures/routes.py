from flask import g, request
from flask.views import MethodView

from backend.errors import PayloadTooLarge
from backend.extensions.smorest import Blueprint, PageArgsSchema

from . import approval, lifecycle, publishing, reading
from .examples import EXAMPLES, OPENAPI_EXAMPLES, WITHDRAWAL
from .schemas import (
    MAX_BULK_ITEMS,
    ApprovalQueueSchema,
    ApprovalRequestSchema,
    ApprovalRequirementPutSchema,
    ApprovalRequirementSchema,
    ApprovalReturnSchema,
    BulkRequestSchema,
    BulkResponseSchema,
    DeadlineExplanationSchema,
    DisclosureListArgsSchema,
    DisclosureListSchema,
    DisclosurePutSchema,
    DisclosureSchema,
    DisclosureSearchArgsSchema,
    DisclosureSearchSchema,
    PublicDisclosureSchema,
    RemovalNoticeSchema,
    WithdrawSchema,
)

publish_blp = Blueprint(
    "publish_disclosures",
    __name__,
    url_prefix="/api/v1/publish",
    description="Publishing API for agencies' case systems (谁执法谁公示: an agency touches only its own items)",
)
approval_blp = Blueprint(
    "approvals",
    __name__,
    url_prefix="/api/v1/admin",
    description="Pre-publication approval (经法制部门审核后公示): requirements set by a 司法局, the approval queue",
)
NO_HELD_SUBMISSION = "no such submission for you to decide"

public_blp = Blueprint(
    "disclosures", __name__, url_prefix="/api/v1/disclosures", description="公示信息: public search and reading"
)


@publish_blp.route("/disclosures")
class OwnDisclosures(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(DisclosureListArgsSchema, location="query")
    @publish_blp.response(200, DisclosureListSchema)
    def get(self, args):
        """The agency's own items, with their deadlines (pending and overdue ones included)"""
        return reading.list_own(g.agency, **args)


@publish_blp.route("/disclosures:bulk")
class BulkDisclosures(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(
        BulkRequestSchema,
        example={"items": [{"external_id": "CF-2026-0128", **EXAMPLES["decision"]}]},
    )
    @publish_blp.response(200, BulkResponseSchema)
    @publish_blp.alt_response(413, description=f"more than {MAX_BULK_ITEMS} items")
    def post(self, body):
        """Upsert up to 500 items; one bad item does not fail the others"""
        if len(body["items"]) > MAX_BULK_ITEMS:
            raise PayloadTooLarge(f"每次最多提交 {MAX_BULK_ITEMS} 条", errors={"items": [f"at most {MAX_BULK_ITEMS}"]})
        results = publishing.bulk_upsert(g.agency, body["items"], g.actor)
        counts = {
            outcome: sum(r["result"] == outcome for r in results)
            for outcome in ("created", "updated", "unchanged", "invalid")
        }
        return {"results": results, **counts}


@publish_blp.route("/disclosures/<string:external_id>")
class OwnDisclosure(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(DisclosurePutSchema, examples=OPENAPI_EXAMPLES)
    @publish_blp.response(200, DisclosureSchema, description="updated, or unchanged")
    @publish_blp.alt_response(201, schema=DisclosureSchema, description="created")
    @publish_blp.alt_response(
        409,
        description="the item was withdrawn or has expired (publish a re-made decision under a new id), the agency "
        "already has a published av_matter_list, or a major case's legal review has not approved the decision",
    )
    def put(self, data, external_id):
        """Create or update an item by the agency's own id (idempotent)"""
        result = publishing.upsert(g.agency, external_id, data, g.actor)
        return result.item, result.status_code

    @publish_blp.agency_required
    @publish_blp.response(200, DisclosureSchema)
    @publish_blp.alt_response(404, description="no such item of the agency (another agency's item is not found either)")
    def get(self, external_id):
        """One of the agency's own items: original, public text, privacy report and clock"""
        return reading.get_own(g.agency, external_id)


@publish_blp.route("/disclosures/<string:external_id>/withdraw")
class WithdrawDisclosure(MethodView):
    @publish_blp.agency_required
    @publish_blp.arguments(WithdrawSchema, example=WITHDRAWAL)
    @publish_blp.response(200, DisclosureSchema)
    @publish_blp.alt_response(404, description="no such item of the agency (another agency's item is not found either)")
    @publish_blp.alt_response(409, description="the item is not published")
    def post(self, body, external_id):
        """Take a published item down at once, with an explanation (撤下); withdrawing twice changes nothing"""
        item = lifecycle.withdraw(
            g.agency,
            external_id,
            actor=g.actor,
            ip=request.remote_addr,
            document_no=body.get("document_no"),
            reason=body["reason"],
            explanation=body["explanation"],
        )
        return item


@publish_blp.route("/disclosures/<string:external_id>/deadline")
class OwnDisclosureDeadline(MethodView):
    @publish_blp.agency_required
    @publish_blp.response(200, DeadlineExplanationSchema)
    @publish_blp.alt_response(404, description="no such item of the agency, or the item has no statutory deadline")
    def get(self, external_id):
        """How the publication deadline was counted: which days were skipped and why"""
        return reading.explain_deadline(reading.get_own(g.agency, external_id))


@public_blp.route("")
class PublicDisclosures(MethodView):
    @public_blp.arguments(DisclosureSearchArgsSchema, location="query")
    @public_blp.response(200, DisclosureSearchSchema)
    def get(self, args):
        """Search everything agencies have published, with facets"""
        return reading.search_public(**args)


@public_blp.route("/<string:disclosure_id>")
class PublicDisclosure(MethodView):
    @public_blp.response(200, PublicDisclosureSchema)
    @public_blp.alt_response(404, description="no public item with that id (never published, or withheld)")
    @public_blp.alt_response(
        410, schema=RemovalNoticeSchema, description="withdrawn or expired: the notice (when, why, log index)"
    )
    def get(self, disclosure_id):
        """One published item"""
        return reading.get_public(disclosure_id)


@approval_blp.route("/approval-requirements")
class ApprovalRequirements(MethodView):
    @approval_blp.admin_required("supervisor", "admin")
    @approval_blp.response(200, ApprovalRequirementSchema(many=True))
    def get(self):
        """Which agencies' pre-phase lists need approval before they go public, in your region"""
        return approval.requirements(g.admin)


@approval_blp.route("/approval-requirements/<string:agency>/<string:type_>")
class AgencyApprovalRequirement(MethodView):
    @approval_blp.admin_required("supervisor", "admin")
    @approval_blp.arguments(ApprovalRequirementPutSchema, example={"approver_agency": None})
    @approval_blp.response(200, ApprovalRequirementSchema, description="changed")
    @approval_blp.alt_response(201, schema=ApprovalRequirementSchema, description="required from now on")
    @approval_blp.alt_response(404, description="no such agency in your region")
    def put(self, body, agency, type_):
        """Require that an agency's items of a pre-phase type are approved before they go public"""
        requirement, created = approval.require(
            g.admin, agency, type_, body.get("approver_agency"), ip=request.remote_addr
        )
        return requirement, 201 if created else 200

    @approval_blp.admin_required("supervisor", "admin")
    @approval_blp.response(204)
    @approval_blp.alt_response(404, description="no such agency in your region, or no such requirement")
    def delete(self, agency, type_):
        """Lift the requirement: later pushes go public at once"""
        approval.lift(g.admin, agency, type_, ip=request.remote_addr)


@approval_blp.route("/approvals")
class Approvals(MethodView):
    @approval_blp.admin_required("supervisor", "admin", "handler")
    @approval_blp.arguments(PageArgsSchema, location="query")
    @approval_blp.response(200, ApprovalQueueSchema)
    def get(self, args):
        """Submissions waiting for your approval, the oldest first"""
        return approval.queue(g.admin, **args)


@approval_blp.route("/approvals/<int(max=2147483647):request_id>")
class HeldSubmission(MethodView):
    @approval_blp.admin_required("supervisor", "admin", "handler")
    @approval_blp.response(200, ApprovalRequestSchema)
    @approval_blp.alt_response(404, description=NO_HELD_SUBMISSION)
    def get(self, request_id):
        """One held submission: what was pushed and what citizens see now"""
        return approval.for_approver(g.admin, request_id)


@approval_blp.route("/approvals/<int(max=2147483647):request_id>/approve")
class Approve(MethodView):
    @approval_blp.admin_required("supervisor", "admin", "handler")
    @approval_blp.response(200, ApprovalRequestSchema)
    @approval_blp.alt_response(404, description=NO_HELD_SUBMISSION)
    @approval_blp.alt_response(409, description="already decided, or no longer valid")
    def post(self, request_id):
        """Approve: the submission goes public as pushed (logged like any publication)"""
        return approval.approve(g.admin, request_id, ip=request.remote_addr)


@approval_blp.route("/approvals/<int(max=2147483647):request_id>/return")
class Return(MethodView):
    @approval_blp.admin_required("supervisor", "admin", "handler")
    @approval_blp.arguments(ApprovalReturnSchema, example={"reasons": "抽查比例未写明依据，请补充后重新提交。"})
    @approval_blp.response(200, ApprovalRequestSchema)
    @approval_blp.alt_response(404, description=NO_HELD_SUBMISSION)
    @approval_blp.alt_response(409, description="already decided")
    def post(self, body, request_id):
        """Return the submission to its agency with reasons; nothing public changes"""
        return approval.return_(g.admin, request_id, body["reasons"], ip=request.remote_addr)
