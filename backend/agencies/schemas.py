import marshmallow as ma

from backend.extensions.smorest import PageArgsSchema, Schema, page_schema

REGION_CODE = ma.validate.Regexp(r"^[1-8]\d{5}$", error="must be a 6-digit administrative division code")


class RemedyChannelsSchema(Schema):
    reconsideration = ma.fields.List(ma.fields.String(), metadata={"description": "行政复议机关"})
    litigation = ma.fields.List(ma.fields.String(), metadata={"description": "行政诉讼法院"})


class AgencySchema(Schema):
    code = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    level = ma.fields.String(dump_only=True, metadata={"description": "province, city, county or township"})
    region_code = ma.fields.String(dump_only=True)
    parent = ma.fields.String(
        attribute="parent_code", dump_only=True, allow_none=True, metadata={"description": "parent agency code, if any"}
    )
    address = ma.fields.String(dump_only=True)
    phone = ma.fields.String(dump_only=True)
    complaint_phone = ma.fields.String(dump_only=True)
    remedy_channels = ma.fields.Nested(RemedyChannelsSchema, dump_only=True)


class AgencySearchArgsSchema(PageArgsSchema):
    q = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    region = ma.fields.String(validate=REGION_CODE, metadata={"description": "also matches divisions below it"})


class AgencyHitSchema(AgencySchema):
    highlight = ma.fields.String(
        dump_only=True, allow_none=True, metadata={"description": "name with matches in <em>; null without a query"}
    )


AgencyPageSchema = page_schema(AgencyHitSchema, "AgencyPageSchema")


class PrePhaseItemSchema(Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    type_label = ma.fields.String()
    url = ma.fields.String()


class AgencyDetailSchema(AgencySchema):
    disclosures = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Nested(PrePhaseItemSchema)),
        metadata={"description": "current 事前公开 items by type (power, inspection_list, service_guide, ...)"},
    )
