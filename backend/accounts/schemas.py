import marshmallow as ma

from backend.extensions.smorest import Schema


class TokenRequestSchema(Schema):
    client_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    client_secret = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=256), load_only=True)


class TokenSchema(Schema):
    access_token = ma.fields.String()
    token_type = ma.fields.String()
    expires_in = ma.fields.Integer(metadata={"description": "seconds"})


class WhoAmISchema(Schema):
    client_id = ma.fields.String()
    agency = ma.fields.String(metadata={"description": "code of the agency the token is bound to"})
    agency_name = ma.fields.String()


class AdminAccountSchema(Schema):
    username = ma.fields.String()
    role = ma.fields.String()
    agency = ma.fields.Function(lambda user: user.agency.code if user.agency else None, allow_none=True)
    region_code = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    disabled_at = ma.fields.AwareDateTime(allow_none=True)
    second_factor = ma.fields.Function(lambda user: user.totp_confirmed_at is not None)
    must_change_password = ma.fields.Boolean()
    password_changed_at = ma.fields.AwareDateTime(allow_none=True)


class AdminAccountListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AdminAccountSchema))


class TemporaryPasswordSchema(Schema):
    username = ma.fields.String()
    temporary_password = ma.fields.String(metadata={"description": "shown this once; changed at the next sign-in"})


class AdminSessionSchema(Schema):
    id = ma.fields.Integer()
    username = ma.fields.Function(lambda row: row.user.username)
    role = ma.fields.Function(lambda row: str(row.user.role))
    created_at = ma.fields.AwareDateTime()
    last_seen_at = ma.fields.AwareDateTime()
    address = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)


class AdminSessionListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(AdminSessionSchema))


class RevokedSchema(Schema):
    username = ma.fields.String()
    sessions_ended = ma.fields.Integer()
