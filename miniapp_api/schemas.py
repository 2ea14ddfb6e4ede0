import marshmallow as ma

from backend.complaints.schemas import ComplaintCreateSchema, ComplaintViewSchema, FiledSchema
from backend.disclosures.schemas import (
    DisclosureSearchFiltersSchema,
    PublicDisclosureSchema,
    SearchPageItemSchema,
    facets_field,
    public_url,
)
from backend.extensions.smorest import Schema, page_schema, search_page_fields
from backend.timezone import BeijingDateTime


class MiniappLoginSchema(Schema):
    code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=128), metadata={"description": "from wx.login()"}
    )


class MiniappTokenSchema(Schema):
    access_token = ma.fields.String(metadata={"description": "the bearer token for Authorization: Bearer <token>"})
    token_type = ma.fields.String(metadata={"description": "always Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds the token stays valid"})
    subscribe_template_id = ma.fields.String(
        allow_none=True, metadata={"description": "the template to pass to wx.requestSubscribeMessage"}
    )


class MiniappSearchArgsSchema(DisclosureSearchFiltersSchema):
    """The public search's words, filters and order, a phone's page, and whether to count facets."""

    facets = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "also count the hits by agency, region, type, category and phase, with names "
            "(costs about as much again: ask when the filters change, not for every page)"
        },
    )
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=100), metadata={"description": "the page, from 1"}
    )
    page_size = ma.fields.Integer(
        load_default=10, validate=ma.validate.Range(min=1, max=20), metadata={"description": "hits per page (1-20)"}
    )


class MiniappSearchItemSchema(SearchPageItemSchema):
    """A search hit in one line (reading.Found)."""

    snippet = ma.fields.String(metadata={"description": "HTML-escaped, matches in <em> (for rich-text)"})
    agency_name = ma.fields.String(
        attribute="item.agency.name", metadata={"description": "the agency that published it"}
    )

    class Meta:
        exclude = ("agency", "phase", "type", "category")


MiniappSearchPageSchema = page_schema(
    MiniappSearchItemSchema, "MiniappSearchPageSchema", page_size=False, facets=facets_field(), **search_page_fields()
)


class MiniappDisclosureSchema(PublicDisclosureSchema):
    """A published item (a Disclosure) as a phone shows it: the text and dates, without the log's proof."""

    agency_name = ma.fields.String(attribute="agency.name", metadata={"description": "the agency that published it"})
    published_at = BeijingDateTime(
        allow_none=True, metadata={"description": "when it went public, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    published_on = ma.fields.Date(allow_none=True, metadata={"description": "the day it was published, in Beijing"})
    corrected_at = BeijingDateTime(
        allow_none=True,
        metadata={"description": "when it was last corrected, ISO 8601 with the +08:00 offset (Beijing time)"},
    )
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
    name = ma.fields.String(metadata={"description": "the officer's name"})
    badge_no = ma.fields.String(metadata={"description": "执法证号"})
    agency_name = ma.fields.String(metadata={"description": "the officer's agency"})
    domains = ma.fields.List(ma.fields.String(), metadata={"description": "执法领域"})
    valid_until = ma.fields.String(allow_none=True, metadata={"description": "last day valid, YYYY-MM-DD"})
    photo_url = ma.fields.String(allow_none=True, metadata={"description": "the officer's photo; null: none"})


class MiniappVerificationSchema(Schema):
    result = ma.fields.String(metadata={"description": "valid, suspended, revoked, expired or invalid"})
    label = ma.fields.String(metadata={"description": "有效 / 暂扣 / 注销 / 已过期 / 无法验证"})
    reason = ma.fields.String(metadata={"description": "as /api/v1/badges/verify, or unknown_scene"})
    checked_at = BeijingDateTime(
        metadata={"description": "when the check was made, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    officer = ma.fields.Nested(
        MiniappVerifiedOfficerSchema,
        allow_none=True,
        metadata={"description": "the officer the token names; null when invalid"},
    )
    page_url = ma.fields.String(allow_none=True, metadata={"description": "the web verification page"})
    receipt = ma.fields.String(allow_none=True, metadata={"description": "for a complaint about this officer"})


class MiniappComplaintSchema(ComplaintCreateSchema):
    notify_consent = ma.fields.Boolean(
        load_default=False, metadata={"description": "the user accepted the subscribe message for updates"}
    )


class MiniappFiledSchema(FiledSchema):
    under_review = ma.fields.Boolean(metadata={"description": "the content check doubted the text: a handler reviews"})


class MiniappMyComplaintsArgsSchema(Schema):
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=100), metadata={"description": "the page, from 1"}
    )
    page_size = ma.fields.Integer(
        load_default=10,
        validate=ma.validate.Range(min=1, max=50),
        metadata={"description": "complaints per page (1-50)"},
    )


class MiniappMyComplaintSchema(Schema):
    tracking_no = ma.fields.String(metadata={"description": "the tracking number"})
    status = ma.fields.String(metadata={"description": "where it stands"})
    status_label = ma.fields.String(metadata={"description": "its Chinese name"})
    category_label = ma.fields.String(metadata={"description": "the category's Chinese name"})
    agency_name = ma.fields.String(metadata={"description": "the agency handling it"})
    created_at = BeijingDateTime(
        metadata={"description": "when it was filed, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    under_review = ma.fields.Boolean(
        metadata={"description": "the content check doubted the text: a handler reviews it first"}
    )


MiniappMyComplaintsSchema = page_schema(MiniappMyComplaintSchema, "MiniappMyComplaintsSchema", page_size=False)


class MiniappComplaintViewSchema(ComplaintViewSchema):
    notify_consent = ma.fields.Boolean(metadata={"description": "the user accepted update messages"})


class MiniappRatingSchema(Schema):
    score = ma.fields.Integer(
        required=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "satisfaction from 1 (very dissatisfied) to 5 (very satisfied)"},
    )
    comment = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=500),
        metadata={"description": "a comment (up to 500 characters)"},
    )


class MiniappSubscriptionSchema(Schema):
    template_id = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "the subscribe-message template the user answered for"},
    )
    choice = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["accept", "reject", "ban", "filter"]),
        metadata={"description": "what wx.requestSubscribeMessage answered for the template"},
    )
