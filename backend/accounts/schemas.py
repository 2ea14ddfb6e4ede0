import marshmallow as ma

from backend.extensions.smorest import Schema


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
