import marshmallow as ma

from backend.extensions.smorest import PageArgsSchema, Schema, page_schema

REGION_CODE = ma.validate.Regexp(r"^[1-8]\d{5}$", error="must be a 6-digit administrative division code")


class RemedyChannelsSchema(Schema):
    reconsideration = ma.fields.List(ma.fields.String(), metadata={"description": "行政复议机关"})
    litigation = ma.fields.List(ma.fields.String(), metadata={"description": "行政诉讼法院"})


class AgencySchema(Schema):
    code = ma.fields.String(
        dump_only=True, metadata={"description": "the agency's code (统一社会信用代码 or the platform's code)"}
    )
    name = ma.fields.String(dump_only=True, metadata={"description": "the agency's name"})
    level = ma.fields.String(dump_only=True, metadata={"description": "province, city, county or township"})
    region_code = ma.fields.String(
        dump_only=True, metadata={"description": "6-digit administrative division code of its area"}
    )
    parent = ma.fields.String(
        attribute="parent_code", dump_only=True, allow_none=True, metadata={"description": "parent agency code, if any"}
    )
    address = ma.fields.String(dump_only=True, metadata={"description": "office address"})
    phone = ma.fields.String(dump_only=True, metadata={"description": "office phone"})
    complaint_phone = ma.fields.String(dump_only=True, metadata={"description": "where to phone complaints about it"})
    remedy_channels = ma.fields.Nested(
        RemedyChannelsSchema,
        dump_only=True,
        metadata={"description": "where to seek 行政复议 and 行政诉讼 against its decisions"},
    )


class AgencySearchArgsSchema(PageArgsSchema):
    q = ma.fields.String(
        load_default="",
        validate=ma.validate.Length(max=100),
        metadata={"description": "words in the agency's name (up to 100 characters); empty: every agency"},
    )
    region = ma.fields.String(validate=REGION_CODE, metadata={"description": "also matches divisions below it"})


class AgencyHitSchema(AgencySchema):
    highlight = ma.fields.String(
        dump_only=True, allow_none=True, metadata={"description": "name with matches in <em>; null without a query"}
    )


AgencyPageSchema = page_schema(AgencyHitSchema, "AgencyPageSchema")


class PrePhaseItemSchema(Schema):
    id = ma.fields.String(metadata={"description": "the item's id"})
    title = ma.fields.String(metadata={"description": "its public title"})
    type_label = ma.fields.String(metadata={"description": "its type's Chinese name"})
    url = ma.fields.String(metadata={"description": "its page for citizens"})


class AgencyDetailSchema(AgencySchema):
    disclosures = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Nested(PrePhaseItemSchema)),
        metadata={"description": "current 事前公开 items by type (power, inspection_list, service_guide, ...)"},
    )
