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
