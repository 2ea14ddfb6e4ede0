import marshmallow as ma

from backend.complaints.schemas import ComplaintCreateSchema, ComplaintViewSchema, FiledSchema
from backend.disclosures.schemas import PublicDisclosureSchema, SearchPageItemSchema, public_url
from backend.extensions.smorest import Schema, page_schema
from backend.timezone import BeijingDateTime


class MiniappLoginSchema(Schema):
    code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=128), metadata={"description": "from wx.login()"}
    )


class MiniappTokenSchema(Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer()
    subscribe_template_id = ma.fields.String(
        allow_none=True, metadata={"description": "the template to pass to wx.requestSubscribeMessage"}
    )


class MiniappSearchArgsSchema(Schema):
    q = ma.fields.String(load_default="", validate=ma.validate.Length(max=100))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    page_size = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=20))


class MiniappSearchItemSchema(SearchPageItemSchema):
    """A search hit in one line (reading.Found)."""

    snippet = ma.fields.String(metadata={"description": "HTML-escaped, matches in <em> (for rich-text)"})
    agency_name = ma.fields.String(attribute="item.agency.name")

    class Meta:
        exclude = ("agency", "phase", "type", "category", "title_highlight")


MiniappSearchPageSchema = page_schema(MiniappSearchItemSchema, "MiniappSearchPageSchema", page_size=False)


class MiniappDisclosureSchema(PublicDisclosureSchema):
    """A published item (a Disclosure) as a phone shows it: the text and dates, without the log's proof."""

    agency_name = ma.fields.String(attribute="agency.name")
    published_at = BeijingDateTime(allow_none=True)
    published_on = ma.fields.Date(allow_none=True, metadata={"description": "the day it was published, in Beijing"})
    corrected_at = BeijingDateTime(allow_none=True)
    url = ma.fields.Function(public_url, metadata={"type": "string", "description": "the web page, to share"})

    class Meta:
        exclude = (
            "agency", "phase", "type", "category", "outcome", "subject_type", "region", "effective_from",
            "effective_until", "attachments", "details", "log_index", "commitment_salt",
        )  # fmt: skip


class MiniappVerifyArgsSchema(Schema):
    token = ma.fields.String(
        validate=ma.validate.Length(min=1, max=4096),
        metadata={"description": "a badge token, or the badge QR's URL (options.q of a scanned QR link)"},
    )
    scene = ma.fields.String(
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "the scene of a scanned mini-program code (decodeURIComponent(options.scene))"},
    )

    @ma.validates_schema
    def one_of(self, data: dict, **_kwargs) -> None:
        if ("token" in data) == ("scene" in data):
            raise ma.ValidationError("give token or scene", field_name="token")


class MiniappVerifiedOfficerSchema(Schema):
    name = ma.fields.String()
    badge_no = ma.fields.String()
    agency_name = ma.fields.String()
    domains = ma.fields.List(ma.fields.String())
    valid_until = ma.fields.String(allow_none=True)
    photo_url = ma.fields.String(allow_none=True)


class MiniappVerificationSchema(Schema):
    result = ma.fields.String(metadata={"description": "valid, suspended, revoked, expired or invalid"})
    label = ma.fields.String(metadata={"description": "有效 / 暂扣 / 注销 / 已过期 / 无法验证"})
    reason = ma.fields.String(metadata={"description": "as /api/v1/badges/verify, or unknown_scene"})
    checked_at = BeijingDateTime()
    officer = ma.fields.Nested(MiniappVerifiedOfficerSchema, allow_none=True)
    page_url = ma.fields.String(allow_none=True, metadata={"description": "the web verification page"})
    receipt = ma.fields.String(allow_none=True, metadata={"description": "for a complaint about this officer"})


class MiniappComplaintSchema(ComplaintCreateSchema):
    notify_consent = ma.fields.Boolean(
        load_default=False, metadata={"description": "the user accepted the subscribe message for updates"}
    )


class MiniappFiledSchema(FiledSchema):
    under_review = ma.fields.Boolean(metadata={"description": "the content check doubted the text: a handler reviews"})


class MiniappMyComplaintsArgsSchema(Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100))
    page_size = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=50))


class MiniappMyComplaintSchema(Schema):
    tracking_no = ma.fields.String()
    status = ma.fields.String()
    status_label = ma.fields.String()
    category_label = ma.fields.String()
    agency_name = ma.fields.String()
    created_at = BeijingDateTime()
    under_review = ma.fields.Boolean()


MiniappMyComplaintsSchema = page_schema(MiniappMyComplaintSchema, "MiniappMyComplaintsSchema", page_size=False)


class MiniappComplaintViewSchema(ComplaintViewSchema):
    notify_consent = ma.fields.Boolean()


class MiniappRatingSchema(Schema):
    score = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1, max=5))
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class MiniappSubscriptionSchema(Schema):
    template_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    choice = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["accept", "reject", "ban", "filter"]),
        metadata={"description": "what wx.requestSubscribeMessage answered for the template"},
    )
