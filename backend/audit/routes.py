from flask import Response, g
from flask.views import MethodView

from backend.extensions.smorest import Blueprint

from . import trail
from .schemas import EXPORT_LIMIT, AuditArgsSchema, AuditPageSchema

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/v1/admin/audit",
    description="The audit trail, for the auditor (审计管理员) alone: read and exported, never changed",
)


@blp.route("")
class AuditTrail(MethodView):
    @blp.admin_required("auditor")
    @blp.arguments(AuditArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    @blp.also_as({"text/csv": "format=csv (oldest first, UTF-8 with a BOM)"})
    def get(self, args):
        """Audit entries, newest first, filtered by actor, action (or its start), target and Beijing days"""
        if args["format"] == "csv":
            entries = trail.export(args["filters"], EXPORT_LIMIT)
            name = f"audit-{g.admin.username}"
            headers = {"Content-Disposition": f"attachment; filename={name}.csv"}
            return Response(trail.to_csv(entries), mimetype="text/csv", headers=headers)
        return trail.page(args["filters"], args["page"], args["page_size"])
