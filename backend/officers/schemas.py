import marshmallow as ma

from backend.agencies.schemas import REGION_CODE
from backend.disclosures.schemas import AgencyRefSchema
from backend.extensions.smorest import PageArgsSchema, Schema, page_schema
from backend.timezone import BeijingDateTime

from .models import CredentialStatus
from .services import badge_url


class PhotoUploadSchema(Schema):
    media_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["image/jpeg", "image/png"]))
    data = ma.fields.String(required=True, metadata={"description": "base64 of the image bytes"})


class OfficerPutSchema(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=50))
    photo = ma.fields.Nested(PhotoUploadSchema, metadata={"description": "JPEG or PNG; omit to keep the current one"})
    domains = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "执法领域 / 执法类别"},
    )
    regions = ma.fields.List(ma.fields.String(validate=REGION_CODE), validate=ma.validate.Length(max=50))
    valid_from = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(required=True)
    exam_date = ma.fields.Date(metadata={"description": "passed the enforcement qualification exam"})

    @ma.validates_schema
    def check_dates(self, data, **_kwargs):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ma.ValidationError({"valid_until": ["before valid_from"]})


class OfficerStatusSchema(Schema):
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(list(CredentialStatus)))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=200))


class OfficerSchema(Schema):
    badge_no = ma.fields.String()
    name = ma.fields.String()
    agency = ma.fields.Nested(AgencyRefSchema)
    domains = ma.fields.List(ma.fields.String())
    regions = ma.fields.List(ma.fields.String())
    valid_from = ma.fields.Date(allow_none=True)
    valid_until = ma.fields.Date(allow_none=True)
    exam_date = ma.fields.Date(allow_none=True)
    status = ma.fields.String()
    status_reason = ma.fields.String(allow_none=True)
    photo_sha256 = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    verify_url = ma.fields.Function(
        badge_url,
        metadata={
            "type": "string",
            "description": "the badge verification page (/v/{token}) the badge card's QR opens, absolute",
        },
    )


OfficerListSchema = page_schema(OfficerSchema, "OfficerListSchema")


class RosterEntrySchema(Schema):
    """The public roster: no photo, no dates beyond validity."""

    badge_no = ma.fields.String()
    name = ma.fields.String()
    agency = ma.fields.Nested(AgencyRefSchema)
    domains = ma.fields.List(ma.fields.String())
    status = ma.fields.String()
    valid_until = ma.fields.Date(allow_none=True)


class RosterArgsSchema(PageArgsSchema):
    q = ma.fields.String(load_default="", validate=ma.validate.Length(max=50))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    status = ma.fields.String(validate=ma.validate.OneOf(list(CredentialStatus)))
    domain = ma.fields.String(validate=ma.validate.Length(max=50))


RosterPageSchema = page_schema(RosterEntrySchema, "RosterPageSchema")


class DynamicBadgeSchema(Schema):
    token = ma.fields.String()
    url = ma.fields.String()
    expires_at = BeijingDateTime()
    qr_svg = ma.fields.String(metadata={"description": "the QR as SVG, to show on the officer's phone"})
    qr_png = ma.fields.String(metadata={"description": "the QR as base64 PNG"})


class VerifyArgsSchema(Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2048))


class VerifiedOfficerSchema(Schema):
    name = ma.fields.String()
    badge_no = ma.fields.String()
    agency = ma.fields.Nested(AgencyRefSchema)
    domains = ma.fields.List(ma.fields.String())
    regions = ma.fields.List(ma.fields.String())
    valid_until = ma.fields.String(allow_none=True)
    status = ma.fields.String()


class SnapshotNested(ma.fields.Nested):
    """A nested officer, dumped once per snapshot object: every scan of a badge within a snapshot's
    lifetime shares one (read-only) snapshot, so its public view is the same too."""

    MAX_KEPT = 4096

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._views: dict[int, tuple[object, object]] = {}

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        if nested_obj is None:
            return None
        kept = self._views.get(id(nested_obj))
        if kept is not None and kept[0] is nested_obj:  # the snapshot itself is held, so its id is not reused
            return kept[1]
        view = super()._serialize(nested_obj, attr, obj, **kwargs)
        if len(self._views) >= self.MAX_KEPT:
            self._views.clear()
        self._views[id(nested_obj)] = (nested_obj, view)
        return view


class VerificationSchema(Schema):
    result = ma.fields.String(metadata={"description": "valid, suspended, revoked, expired or invalid"})
    reason = ma.fields.String(
        metadata={
            "description": "ok, suspended, revoked, dynamic_expired, credential_expired, not_yet_valid, "
            "unknown_officer, malformed, unsupported_alg, unknown_key, bad_signature"
        }
    )
    label = ma.fields.String(metadata={"description": "有效 / 暂扣 / 注销 / 已过期 / 无法验证"})
    token_kind = ma.fields.String(metadata={"description": "static, dynamic or unknown"})
    checked_at = BeijingDateTime()
    officer = SnapshotNested(VerifiedOfficerSchema, allow_none=True)
