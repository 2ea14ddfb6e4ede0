"""Domain errors: raised by services, turned into the one error shape by the app.

Services stay free of HTTP; the CLI prints the same messages.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import click
from flask.cli import AppGroup


class DomainError(Exception):
    status = 400

    def __init__(
        self,
        message: str,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        # Fields added to the error body beside code/status/message/errors (e.g. a withdrawal notice).
        self.extra = extra or {}


class BadRequest(DomainError):
    status = 400


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class Unauthorized(DomainError):
    status = 401

    def __init__(self, message: str = "未认证或凭证无效", **kwargs: Any):
        kwargs.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="publish"'})
        super().__init__(message, **kwargs)


class RateLimited(DomainError):
    status = 429

    def __init__(self, retry_after: float, message: str = "请求过于频繁，请稍后再试"):
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))})
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    status = 413


class Gone(DomainError):
    status = 410


class ServiceUnavailable(DomainError):
    """A service we depend on (WeChat, ...) is down, busy or not configured; ``Retry-After`` says when to retry."""

    status = 503

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any):
        if retry_after is not None:
            kwargs.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(message, **kwargs)


# Seconds a client is asked to wait when the database cannot answer (a restart takes a few).
DATABASE_RETRY_AFTER = 5


def database_unavailable() -> ServiceUnavailable:
    """What every request is answered while the database cannot be reached (503, ``Retry-After``)."""
    return ServiceUnavailable(
        "数据库暂不可用，请稍后再试", retry_after=DATABASE_RETRY_AFTER, errors={"database": ["unavailable"]}
    )


def error_payload(code: int, message: str, errors: dict | None = None) -> dict[str, Any]:
    """The one error shape: ``code``, ``status``, a message for people and, when known, ``errors`` by field."""
    payload: dict[str, Any] = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        payload["errors"] = errors
    return payload


def error_body(error: DomainError) -> dict[str, Any]:
    return {**error_payload(error.status, error.message, error.errors), **error.extra}


class DomainErrorAware(AppGroup):
    """Prints a DomainError as one line on stderr and exits 1, instead of a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DomainError as error:
            detail = f" {error.errors}" if error.errors else ""
            raise click.ClickException(f"{error.message}{detail}") from None
