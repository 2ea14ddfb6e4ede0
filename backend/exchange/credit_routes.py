"""GET /api/v1/exchange/credit: the 信用中国 双公示 export, for a supervisor (its region) or a platform admin."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, current_app, g
from flask.views import MethodView

from backend.extensions.smorest import Blueprint, Schema

from . import credit

blp = Blueprint(
    "credit",
    __name__,
    url_prefix="/api/v1/exchange",
    description="信用中国 双公示: licensing and penalty decisions in the credit platform's data standard",
)


class CreditArgsSchema(Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(credit.KINDS)))
    since = ma.fields.Date(metadata={"description": "first day (Beijing) of publication; absent: from the start"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv"]))


class CreditExportSchema(Schema):
    type = ma.fields.String(metadata={"description": "penalty or licensing"})
    columns = ma.fields.List(ma.fields.String(), metadata={"description": "the standard's fields, in its order"})
    rows = ma.fields.List(
        ma.fields.List(ma.fields.String()), metadata={"description": "one per decision, values as the columns"}
    )


@blp.route("/credit")
class CreditExport(MethodView):
    @blp.admin_required("supervisor", "admin")
    @blp.arguments(CreditArgsSchema, location="query")
    @blp.response(200, CreditExportSchema)
    @blp.alt_response(200, content_type="text/csv", description="format=csv: the same, UTF-8 with a BOM")
    def get(self, args):
        """Published penalty or licensing decisions in your region, in the 双公示 data standard (JSON or CSV)"""
        months = current_app.config["CREDIT_PUBLICITY_MONTHS"]
        data = credit.export(g.admin, args["type"], args.get("since"), months)
        if args["format"] == "csv":
            name = f"credit-{args['type']}"
            return Response(
                credit.to_csv(data),
                mimetype="text/csv",
                headers={"Content-Disposition": f"attachment; filename={name}.csv"},
            )
        return data
