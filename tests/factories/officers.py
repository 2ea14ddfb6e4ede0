"""Request bodies for the officers API and small real images for photos."""

from __future__ import annotations

import base64
import io
from typing import Any

from PIL import Image


def image_bytes(kind: str = "JPEG", size: tuple[int, int] = (120, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (90, 120, 160)).save(buffer, kind)
    return buffer.getvalue()


def officer(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "李明",
        "domains": ["食品安全", "市场监管"],
        "regions": ["350500"],
        "valid_from": "2024-01-01",
        "valid_until": "2028-12-31",
        "exam_date": "2023-11-18",
        "photo": {"media_type": "image/jpeg", "data": base64.b64encode(image_bytes()).decode()},
    }
    body.update(overrides)
    return body


def register(client: Any, headers: dict[str, str], *badges: str, **overrides: Any) -> None:
    """Register officers through the API (no photo: case records only need the credential)."""
    body = {key: value for key, value in officer(**overrides).items() if key != "photo"}
    for badge in badges:
        response = client.put(f"/api/v1/publish/officers/{badge}", json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
