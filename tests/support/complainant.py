"""A complainant following their complaint: the query code travels in a header or a posted form, never a URL."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from backend.complaints.schemas import QUERY_CODE_HEADER

COMPLAINTS = "/api/v1/complaints"
TRACK_PAGE = "/complaints/track"


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def read_complaint(client: FlaskClient, tracking_no: str, code: str):
    """``GET /api/v1/complaints/{tracking_no}`` with the code in its header."""
    return client.get(f"{COMPLAINTS}/{tracking_no}", headers={QUERY_CODE_HEADER: code})


def track(client: FlaskClient, tracking_no: str, code: str):
    """The tracking page as a browser uses it: open the form, post the number and the code."""
    page = client.get(TRACK_PAGE).get_data(as_text=True)
    return client.post(TRACK_PAGE, data={"form_token": form_token(page), "tracking_no": tracking_no, "code": code})
