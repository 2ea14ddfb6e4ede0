import marshmallow as ma

from backend.extensions.smorest import Schema
from backend.timezone import BeijingDateTime


class TokenRequestSchema(Schema):
    client_id = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "the agency client's id, as `flask agency-client create` printed it"},
    )
    client_secret = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=256),
        load_only=True,
        metadata={"description": "the client's secret, printed once when the client was created"},
    )


class TokenSchema(Schema):
    access_token = ma.fields.String(
        metadata={"description": "the bearer token (JWT) for Authorization: Bearer <token>"}
    )
    token_type = ma.fields.String(metadata={"description": "always Bearer"})
    expires_in = ma.fields.Integer(metadata={"description": "seconds"})


class WhoAmISchema(Schema):
    client_id = ma.fields.String(metadata={"description": "the client the token was issued to"})
    agency = ma.fields.String(metadata={"description": "code of the agency the token is bound to"})
    agency_name = ma.fields.String(metadata={"description": "name of the agency the token is bound to"})


class AdminAccountSchema(Schema):
    username = ma.fields.String(metadata={"description": "the account's name"})
    role = ma.fields.String(
        metadata={"description": "handler, supervisor, reviewer, observer, publisher, auditor, security or admin"}
    )
    agency = ma.fields.Function(
        lambda user: user.agency.code if user.agency else None,
        allow_none=True,
        metadata={"type": "string", "description": "code of the agency it belongs to, if any"},
    )
    region_code = ma.fields.String(
        allow_none=True, metadata={"description": "6-digit division code of its scope, if any"}
    )
    created_at = BeijingDateTime(metadata={"description": "when it was created"})
    disabled_at = BeijingDateTime(allow_none=True, metadata={"description": "when it was disabled; null: enabled"})
    second_factor = ma.fields.Function(
        lambda user: user.totp_confirmed_at is not None,
        metadata={"type": "boolean", "description": "whether it enrolled a TOTP second factor"},
    )
    must_change_password = ma.fields.Boolean(
        metadata={"description": "a temporary password: it must choose its own at the next sign-in"}
    )
    password_changed_at = BeijingDateTime(allow_none=True, metadata={"description": "when its password was last set"})


class AdminAccountListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AdminAccountSchema), metadata={"description": "every admin account"})


class TemporaryPasswordSchema(Schema):
    username = ma.fields.String(metadata={"description": "the account's name"})
    temporary_password = ma.fields.String(metadata={"description": "shown this once; changed at the next sign-in"})


class AdminSessionSchema(Schema):
    id = ma.fields.Integer(metadata={"description": "the session's number, for DELETE /api/v1/admin/sessions/{id}"})
    username = ma.fields.Function(
        lambda row: row.user.username, metadata={"type": "string", "description": "whose session it is"}
    )
    role = ma.fields.Function(
        lambda row: str(row.user.role), metadata={"type": "string", "description": "that user's role"}
    )
    created_at = BeijingDateTime(metadata={"description": "when it signed in"})
    last_seen_at = BeijingDateTime(metadata={"description": "its latest request"})
    address = ma.fields.String(allow_none=True, metadata={"description": "the address it signed in from"})
    user_agent = ma.fields.String(allow_none=True, metadata={"description": "the browser it signed in with"})


class AdminSessionListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AdminSessionSchema), metadata={"description": "every live session"})


class RevokedSchema(Schema):
    username = ma.fields.String(metadata={"description": "whose sessions were ended"})
    sessions_ended = ma.fields.Integer(metadata={"description": "how many"})
