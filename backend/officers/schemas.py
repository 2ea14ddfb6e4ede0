import marshmallow as ma

from backend.agencies.schemas import REGION_CODE
from backend.disclosures.schemas import AgencyRefSchema
from backend.extensions.smorest import PageArgsSchema, Schema, page_schema
from backend.timezone import BeijingDateTime

from .models import BADGE_NO, CredentialStatus
from .services import badge_url


class PhotoUploadSchema(Schema):
    media_type = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["image/jpeg", "image/png"]),
        metadata={"description": "image/jpeg or image/png"},
    )
    data = ma.fields.String(required=True, metadata={"description": "base64 of the image bytes"})


class OfficerPutSchema(Schema):
    name = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "the officer's name as on the badge (1-50 characters)"},
    )
    photo = ma.fields.Nested(PhotoUploadSchema, metadata={"description": "JPEG or PNG; omit to keep the current one"})
    domains = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=50)),
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "执法领域 / 执法类别"},
    )
    regions = ma.fields.List(
        ma.fields.String(validate=REGION_CODE),
        validate=ma.validate.Length(max=50),
        metadata={"description": "6-digit division codes where the officer may act (up to 50)"},
    )
    valid_from = ma.fields.Date(
        required=True, metadata={"description": "first day the credential is valid, YYYY-MM-DD"}
    )
    valid_until = ma.fields.Date(
        required=True, metadata={"description": "last day the credential is valid, YYYY-MM-DD, not before valid_from"}
    )
    exam_date = ma.fields.Date(metadata={"description": "passed the enforcement qualification exam"})

    @ma.validates_schema
    def check_dates(self, data, **_kwargs):
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise ma.ValidationError({"valid_until": ["before valid_from"]})


class OfficerStatusSchema(Schema):
    status = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(CredentialStatus)),
        metadata={"description": "active (reinstate), suspended 暂扣 or revoked 注销"},
    )
    reason = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=2, max=200),
        metadata={"description": "why, kept with the status change and in the audit log (2-200 characters)"},
    )


class OfficerSchema(Schema):
    badge_no = ma.fields.String(metadata={"description": "执法证号 (4-32 letters, digits or '-')"})
    name = ma.fields.String(metadata={"description": "the officer's name"})
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the agency the officer belongs to"})
    domains = ma.fields.List(ma.fields.String(), metadata={"description": "执法领域 / 执法类别 the officer may act in"})
    regions = ma.fields.List(
        ma.fields.String(), metadata={"description": "6-digit division codes where the credential is valid"}
    )
    valid_from = ma.fields.Date(allow_none=True, metadata={"description": "first day valid, YYYY-MM-DD"})
    valid_until = ma.fields.Date(allow_none=True, metadata={"description": "last day valid, YYYY-MM-DD"})
    exam_date = ma.fields.Date(
        allow_none=True, metadata={"description": "the day the officer passed the qualification exam, YYYY-MM-DD"}
    )
    status = ma.fields.String(metadata={"description": "active, suspended (暂扣) or revoked (注销)"})
    status_reason = ma.fields.String(
        allow_none=True, metadata={"description": "why the credential was suspended or revoked"}
    )
    photo_sha256 = ma.fields.String(
        allow_none=True, metadata={"description": "SHA-256 of the stored photo; null: no photo"}
    )
    version = ma.fields.Integer(metadata={"description": "how many times the officer was changed (1: as created)"})
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

    badge_no = ma.fields.String(metadata={"description": "执法证号"})
    name = ma.fields.String(metadata={"description": "the officer's name"})
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the officer's agency"})
    domains = ma.fields.List(ma.fields.String(), metadata={"description": "执法领域"})
    status = ma.fields.String(metadata={"description": "active, suspended or revoked"})
    valid_until = ma.fields.Date(allow_none=True, metadata={"description": "last day valid, YYYY-MM-DD"})


class RosterArgsSchema(PageArgsSchema):
    q = ma.fields.String(
        load_default="", validate=ma.validate.Length(max=50), metadata={"description": "name or badge number to find"}
    )
    agency = ma.fields.String(validate=ma.validate.Length(max=40), metadata={"description": "only this agency's code"})
    status = ma.fields.String(
        validate=ma.validate.OneOf(list(CredentialStatus)), metadata={"description": "only this status"}
    )
    domain = ma.fields.String(
        validate=ma.validate.Length(max=50), metadata={"description": "only officers of this domain"}
    )


RosterPageSchema = page_schema(RosterEntrySchema, "RosterPageSchema")


class DynamicBadgeSchema(Schema):
    token = ma.fields.String(metadata={"description": "the signed badge token (valid 60 seconds)"})
    url = ma.fields.String(metadata={"description": "the verification address the QR encodes"})
    expires_at = BeijingDateTime(
        metadata={"description": "when the token stops verifying, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    qr_svg = ma.fields.String(metadata={"description": "the QR as SVG, to show on the officer's phone"})
    qr_png = ma.fields.String(metadata={"description": "the QR as base64 PNG"})


class VerifyArgsSchema(Schema):
    token = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=2048),
        metadata={"description": "the token read from the badge's QR"},
    )


class BadgeLookupArgsSchema(Schema):
    badge_no = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(rf"{BADGE_NO.pattern}\Z", error="4-32 letters, digits or '-'"),
        metadata={"description": "执法证号, as printed on the badge"},
    )
    agency = ma.fields.String(
        validate=ma.validate.Length(max=40),
        metadata={"description": "the agency's code, needed only when officers of several agencies have the number"},
    )


class VerifiedOfficerSchema(Schema):
    name = ma.fields.String(metadata={"description": "the officer's name"})
    badge_no = ma.fields.String(metadata={"description": "执法证号"})
    agency = ma.fields.Nested(AgencyRefSchema, metadata={"description": "the officer's agency"})
    domains = ma.fields.List(ma.fields.String(), metadata={"description": "执法领域"})
    regions = ma.fields.List(ma.fields.String(), metadata={"description": "division codes where valid"})
    valid_until = ma.fields.String(allow_none=True, metadata={"description": "last day valid, YYYY-MM-DD"})
    status = ma.fields.String(metadata={"description": "active, suspended or revoked"})


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
    token_kind = ma.fields.String(
        metadata={"description": "static, dynamic or unknown; manual for a badge number typed in (lookup)"}
    )
    checked_at = BeijingDateTime(
        metadata={"description": "when the check was made, ISO 8601 with the +08:00 offset (Beijing time)"}
    )
    officer = SnapshotNested(
        VerifiedOfficerSchema,
        allow_none=True,
        metadata={"description": "the officer the token names; null when it names none (invalid)"},
    )
