"""The project's own flask-smorest subclasses: Api, Blueprint, Schema, the pager and the error shape.

Every error, from a view, from routing (404/405), from a body too large (413) or from an
unexpected exception (500), leaves as ``{code, status, message, errors?}``. ``message`` is
Chinese because citizens read it; ``status`` is the English HTTP name.
"""

from __future__ import annotations

import http
import logging
import re
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field, replace
from functools import wraps
from typing import Any, Generic, TypeVar

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import Flask, current_app, g, request
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from backend.input_guard import INTEGER_RANGE, OUT_OF_RANGE

from .database import db

log = logging.getLogger(__name__)

MESSAGES_ZH = {
    400: "请求格式有误",
    401: "未认证或凭证无效",
    403: "无权执行此操作",
    404: "未找到请求的内容",
    405: "不支持该请求方法",
    409: "与现有数据冲突",
    410: "该内容已撤下",
    412: "数据已被修改，请刷新后重试",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "请求参数有误",
    428: "请求需要 If-Match 头",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后再试",
    503: "服务暂不可用，请稍后再试",
}

BEARER_SCHEME = "AgencyBearer"
ADMIN_SCHEME = "AdminBearer"
EXCHANGE_SCHEME = "ExchangeBearer"

# Errors that tell the client when to come back.
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


class Converter(OpenAPIConverter):
    """Documents a schema that loads through one of several variants (``openapi_variants``) as a ``oneOf``
    with a discriminator, and keeps ``additionalProperties`` when a schema has a description."""

    def schema2jsonschema(self, schema: Any) -> dict:
        schema_class = schema if isinstance(schema, type) else type(schema)
        variants = getattr(schema_class, "openapi_variants", None)
        if variants is not None and (found := variants()) is not None:
            prop, by_value = found
            refs = {value: self.resolve_nested_schema(variant)["$ref"] for value, variant in by_value.items()}
            return {
                "description": getattr(getattr(schema_class, "Meta", None), "description", ""),
                "oneOf": [{"$ref": ref} for ref in refs.values()],
                "discriminator": {"propertyName": prop, "mapping": refs},
            }
        jsonschema = super().schema2jsonschema(schema)
        unknown = (schema() if isinstance(schema, type) else schema).unknown
        if "additionalProperties" not in jsonschema and unknown != ma.EXCLUDE:
            jsonschema["additionalProperties"] = unknown == ma.INCLUDE
        return jsonschema


class ErrorSchema(ma.Schema):
    """The one error shape every error of the API is answered in (backend/errors.py error_payload)."""

    code = ma.fields.Integer(metadata={"description": "the HTTP status code, e.g. 422"})
    status = ma.fields.String(metadata={"description": 'the HTTP status name in English, e.g. "Unprocessable Entity"'})
    message = ma.fields.String(metadata={"description": "what went wrong, in Chinese, for people to read"})
    errors = ma.fields.Dict(
        metadata={
            "description": "by field (or by the service that failed: database, cache, search, wechat), "
            'what is wrong with it, e.g. {"json": {"legal_basis": ["Missing data for required field."]}}'
        }
    )


class Plugin(MarshmallowPlugin):
    Converter = Converter


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app: Flask, *, spec_kwargs: dict | None = None) -> None:
        super().init_app(app, spec_kwargs={"marshmallow_plugin": Plugin(), **(spec_kwargs or {})})
        self.spec.components.security_scheme(
            BEARER_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Agency client token from POST /api/v1/auth/token",
            },
        )
        self.spec.components.security_scheme(
            ADMIN_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Admin user token from POST /api/v1/admin/auth/token",
            },
        )
        self.spec.components.security_scheme(
            EXCHANGE_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Exchange client token from POST /api/v1/exchange/token",
            },
        )

    def _register_responses(self) -> None:
        """Every status's response in the error shape, as flask-smorest has it; 429 and 503 with Retry-After."""
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response: dict[str, Any] = {
                "description": status.phrase,
                "content": {"application/json": {"schema": ERROR_REF}},
            }
            if status in (429, 503):
                response["headers"] = deepcopy(RETRY_AFTER)
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            "DEFAULT_ERROR",
            {"description": "Default error response", "content": {"application/json": {"schema": ERROR_REF}}},
            lazy=True,
        )
        self.spec.components.schema("Error", schema=self.ERROR_SCHEMA)

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        if error.code == 500:
            log.exception("unhandled error", exc_info=getattr(error, "original_exception", None))
        payload, code, headers = super().handle_http_exception(error)
        payload.setdefault("message", MESSAGES_ZH.get(code, error.description or error.name))
        if error.code == 405 and not headers and error.valid_methods:
            headers = {"Allow": ", ".join(error.valid_methods)}
        return payload, code, headers


# What each path parameter of the API names, as the document describes it.
PATH_PARAMETERS = {
    "external_id": "the agency's own id of the item (1-128 characters), chosen by its case system",
    "disclosure_id": "the platform's id of a published item (32 hex digits), as in its address /d/{id}",
    "badge_no": "执法证号 of one of the agency's officers (4-32 letters, digits or '-')",
    "case_no": "the agency's own case number",
    "number": "the submission's number within the case, from 1",
    "code": "an agency's code",
    "agency": "an agency's code",
    "type_": "a pre-phase disclosure type (power, inspection_list, review_catalogue, av_matter_list, "
    "discretion_benchmark)",
    "request_id": "a held submission's number in the approval queue",
    "tracking_no": "the complaint's tracking number, as given on filing",
    "round_id": "an evaluation round's number",
    "rank": "a drawn case's rank in the round, from 1",
    "name": "an event type's name, e.g. change, publish, withdraw",
    "subscription_id": "a push subscription's number, as its creation answered",
    "username": "an admin account's name",
    "session_id": "an admin session's number, as GET /api/v1/admin/sessions lists it",
    "order_no": "a 12345 work order's number (工单编号), as the hotline gave it",
}


class Blueprint(flask_smorest.Blueprint):
    """Adds the agency-token decorator (documents 401 + security) and the 409 mapper.

    The tokens are checked by the accounts domain, which stands on this module: the application factory puts
    its checks in ``app.extensions["token_checks"]``, by security scheme."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks += [self._prepare_auth_doc, self._prepare_error_doc, self._prepare_formats_doc]

    def add_url_rule(self, rule: str, *args: Any, parameters: list | None = None, **options: Any) -> None:
        """Documents each path parameter of ``rule`` by its name (PATH_PARAMETERS)."""
        described = [
            {"in": "path", "name": name, "description": PATH_PARAMETERS[name]}
            for name in re.findall(r"<(?:[^<>:]+:)?(\w+)>", rule)
            if name in PATH_PARAMETERS
        ]
        super().add_url_rule(rule, *args, parameters=[*(parameters or []), *described], **options)

    @staticmethod
    def agency_required(func: Callable) -> Callable:
        """Require a valid agency bearer token; the view then finds its agency in ``g.agency``, the client
        (as audit and log name it) in ``g.actor``."""

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            client = current_app.extensions["token_checks"][BEARER_SCHEME](request.headers.get("Authorization", ""))
            g.agency, g.actor = client.agency, f"client:{client.client_id}"
            return func(*args, **kwargs)

        wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
        wrapper._apidoc["auth"] = BEARER_SCHEME
        return wrapper

    @staticmethod
    def admin_required(*roles: str, audit_reads: bool = True) -> Callable[[Callable], Callable]:
        """Require an admin token of one of ``roles``; the user is then ``g.admin``, named ``g.actor``.

        A GET answered to a supervisor, admin or observer is audited through ``app.extensions["read_audit"]``
        (who read what, when); ``audit_reads=False`` for a view that audits its reads itself, in more detail."""

        def decorator(func: Callable) -> Callable:
            @wraps(func)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                user = current_app.extensions["token_checks"][ADMIN_SCHEME](
                    request.headers.get("Authorization", ""), roles
                )
                g.admin, g.actor = user, f"admin:{user.username}"
                answer = func(*args, **kwargs)
                if audit_reads and request.method == "GET":
                    query = request.args.to_dict(flat=False)
                    current_app.extensions["read_audit"](user, request.path, query, request.remote_addr)
                return answer

            wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
            wrapper._apidoc["auth"] = ADMIN_SCHEME
            return wrapper

        return decorator

    @staticmethod
    def _prepare_auth_doc(doc: dict, doc_info: dict, *, app: Flask, **_kwargs: Any) -> dict:
        scheme = doc_info.get("auth")
        if scheme:
            doc.setdefault("responses", {})["401"] = http.HTTPStatus(401).name
            if scheme == ADMIN_SCHEME:
                doc["responses"]["403"] = http.HTTPStatus(403).name
            doc["security"] = [{scheme: []}]
        return doc

    @staticmethod
    def also_as(formats: dict[str, str]) -> Callable[[Callable], Callable]:
        """The 200 answer may also come as a file: ``{content type: when}``, e.g. ``{"text/csv": "format=csv"}``.
        Documented beside the JSON under the same 200 (``alt_response(200, content_type=…)`` would replace it)."""

        def decorator(func: Callable) -> Callable:
            func._apidoc = deepcopy(getattr(func, "_apidoc", {}))
            func._apidoc["also_as"] = formats
            return func

        return decorator

    @staticmethod
    def _prepare_formats_doc(doc: dict, doc_info: dict, **_kwargs: Any) -> dict:
        formats = doc_info.get("also_as")
        if formats:
            # flask-smorest keys responses by int status; the JSON answer is there already, with its content.
            answer = doc.setdefault("responses", {}).setdefault(200, {"description": "OK"})
            for content_type, when in formats.items():
                answer.setdefault("content", {})[content_type] = {"schema": {"type": "string", "format": "binary"}}
                answer["description"] = f"{answer.get('description', 'OK')}; {content_type} when {when}"
        return doc

    @staticmethod
    def without_storage(func: Callable) -> Callable:
        """Mark a view answered from memory or files alone: no database, cache or search outage reaches it, so
        its document lists no 503."""
        func._apidoc = {**getattr(func, "_apidoc", {}), "without_storage": True}
        return func

    @staticmethod
    def _prepare_error_doc(doc: dict, doc_info: dict, **_kwargs: Any) -> dict:
        """Every view reading the database (or cache, or search) answers 503 while it is down; an error documented
        by its description alone (``alt_response(409, description=...)``) is answered in the one error shape too;
        a 429 or 503 also says when to come back (Retry-After)."""
        responses = doc.setdefault("responses", {})
        if not doc_info.get("without_storage") and not any(str(status) == "503" for status in responses):
            responses["503"] = {"description": "the database, cache or search engine is unavailable"}
        if "requestBody" in doc and not any(str(status) == "413" for status in responses):
            responses["413"] = {"description": "the body is larger than MAX_CONTENT_LENGTH"}
        # The input guard (backend/input_guard.py) stands before every operation.
        if not any(str(status) == "400" for status in responses):
            responses["400"] = {
                "description": "NUL, a lone surrogate or a quote/angle bracket in the address, or JSON "
                "nested too deep: refused by the input guard, naming where"
            }
        if not any(str(status) == "414" for status in responses):
            responses["414"] = {"description": "the address (path and query) is longer than 4096 bytes"}
        for status, response in responses.items():
            if not (isinstance(response, dict) and str(status)[:1] in "45"):
                continue
            response.setdefault("content", {"application/json": {"schema": dict(ERROR_REF)}})
            if str(status) in ("429", "503"):
                response.setdefault("headers", deepcopy(RETRY_AFTER))
        return doc

    @staticmethod
    def catch_integrity_error(func: Callable) -> Callable:
        """Turn a unique/foreign-key violation into a documented 409."""

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with integrity_error_as_409():
                return func(*args, **kwargs)

        wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
        wrapper._apidoc.setdefault("response", {}).setdefault("responses", {}).setdefault(409, []).append(
            http.HTTPStatus(409).name
        )
        return wrapper


@contextmanager
def integrity_error_as_409():
    try:
        yield
    except IntegrityError as exc:
        db.session.rollback()
        flask_smorest.abort(409, message=MESSAGES_ZH[409], errors={"database": [str(exc.orig).splitlines()[0]]})


NOT_A_BOOLEAN = "Not a valid boolean: true or false."


class Schema(ma.Schema):
    """Base schema: an unknown field is an error that names the field, and so is an integer no database
    stores (the input guard checks JSON bodies; this covers query strings and paths' arguments too), and a
    number where the document says boolean (JSON's 0 and 1 are numbers; query strings keep true/false/1/0)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def booleans_are_booleans(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        errors = {
            field.data_key or name: [NOT_A_BOOLEAN]
            for name, field in self.load_fields.items()
            if isinstance(field, ma.fields.Boolean)
            and isinstance(value := data.get(field.data_key or name), int | float)
            and not isinstance(value, bool)
        }
        if errors:
            raise ma.ValidationError(errors)
        return data

    @ma.validates_schema
    def integers_a_database_stores(self, data: dict[str, Any], **_kwargs: Any) -> None:
        low, high = INTEGER_RANGE
        errors = {
            field.data_key or name: [OUT_OF_RANGE]
            for name, field in self.load_fields.items()
            if isinstance(field, ma.fields.Integer)
            and isinstance(value := data.get(field.attribute or name), int)
            and not low <= value <= high
        }
        if errors:
            raise ma.ValidationError(errors)


class PageArgsSchema(Schema):
    page = ma.fields.Integer(
        load_default=1, validate=ma.validate.Range(min=1, max=1000), metadata={"description": "the page, from 1"}
    )
    page_size = ma.fields.Integer(
        load_default=20, validate=ma.validate.Range(min=1, max=100), metadata={"description": "items per page (1-100)"}
    )


# -- the pager: every list (API, mini-program, admin pages) is a Page, dumped by a page_schema ------
T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the size of the whole list; ``facets`` only where a search counts them. A search
    of many matches estimates its total and facet counts (``total_exact``, ``facets_exact`` false): see
    search_index.interfaces.EXACT_COUNT_LIMIT."""

    items: list[T]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    total_exact: bool = True
    facets_exact: bool = True

    def map(self, view: Callable[[T], U]) -> Page[U]:
        """The same page with each item shown by ``view``."""
        return replace(self, items=[view(item) for item in self.items])  # type: ignore[return-value]


def paginate(query: Select, *, page: int, page_size: int) -> Page[Any]:
    """The ``page``-th page of ``query`` (ordered by the caller) and how many rows it has in all.

    Rows of one entity come as objects, rows of several as tuples."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    result = db.session.execute(query.limit(page_size).offset((page - 1) * page_size)).unique()
    rows = result.scalars().all() if len(query.column_descriptions) == 1 else result.all()
    return Page(list(rows), total or 0, page, page_size)


def search_page_fields() -> dict[str, ma.fields.Field]:
    """What a search's page says beyond a list's: whether its total and its facet counts are exact."""
    return {
        "total": ma.fields.Integer(
            metadata={
                "description": "how many items match: exact up to 10,000, above it an estimate (total_exact false), "
                "shown as 约"
            }
        ),
        "total_exact": ma.fields.Boolean(
            metadata={"description": "false when total is an estimate (more than 10,000 matches)"}
        ),
        "facets_exact": ma.fields.Boolean(
            metadata={"description": "false when the facet counts are estimates (they count more than 10,000 matches)"}
        ),
    }


def page_schema(item: type[ma.Schema], name: str, *, page_size: bool = True, **extra: ma.fields.Field) -> type[Schema]:
    """The schema of a ``Page`` of ``item``: ``{items, total, page, page_size}`` and ``extra`` fields.

    ``name`` names it in the OpenAPI document. The mini-program's pages leave out ``page_size``, which it
    chose itself."""
    fields: dict[str, ma.fields.Field] = {
        "items": ma.fields.List(ma.fields.Nested(item), metadata={"description": "this page's items"}),
        "total": ma.fields.Integer(metadata={"description": "how many items the whole list has"}),
        "page": ma.fields.Integer(metadata={"description": "the page's number, from 1"}),
    }
    if page_size:
        fields["page_size"] = ma.fields.Integer(metadata={"description": "items per page asked for"})
    return Schema.from_dict(fields | extra, name=name)
