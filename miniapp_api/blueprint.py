"""The house Blueprint with the mini-program's login decorator and its security scheme in the spec."""

from __future__ import annotations

import http
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

from flask import Flask, g, request

from backend.extensions.smorest import Blueprint

from .services import require_miniapp_token

MINIAPP_SCHEME = "MiniappBearer"


class MiniappBlueprint(Blueprint):
    """Every operation may answer 503 (the mini-program is not configured, or WeChat is down)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._document_503)

    @staticmethod
    def miniapp_required(func: Callable) -> Callable:
        """Require the mini-program's JWT (from POST /miniapp/v1/login); the user is then ``g.user``
        (a ``MiniappUser``), named ``g.actor``."""

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.user = require_miniapp_token(request.headers.get("Authorization", ""))
            g.actor = f"miniapp:{g.user.openid}"
            return func(*args, **kwargs)

        wrapper._apidoc = deepcopy(getattr(func, "_apidoc", {}))
        wrapper._apidoc["auth"] = MINIAPP_SCHEME
        return wrapper

    def register_views_in_doc(self, api, app: Flask, spec, *, name: str, parameters) -> None:  # type: ignore[override]
        if MINIAPP_SCHEME not in spec.components.security_schemes:
            spec.components.security_scheme(
                MINIAPP_SCHEME,
                {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Mini-program user token from POST /miniapp/v1/login (subject: the openid)",
                },
            )
        super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)

    @staticmethod
    def _document_503(doc: dict, _doc_info: dict, **_kwargs: Any) -> dict:
        doc.setdefault("responses", {})["503"] = http.HTTPStatus(503).name
        return doc
