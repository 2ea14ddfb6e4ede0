"""Our 12345 hotline platform, as the real one would work against us.

It holds a hotline client's credentials and takes its token from the API, subscribes its own push endpoint
(``tests.support.receiver.Receiver``: a threaded HTTP server on 127.0.0.1 that checks each push's HMAC-SHA256
signature with the subscription's secret and applies each event id once) to ``workorder.status``, sends
work orders and 回访满意度, and reads back what it was told: ``statuses`` are the verified pushes' data in the
order they arrived.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.support.receiver import Receiver

ORDERS = "/api/v1/hotline/work-orders"
SUBSCRIPTIONS = "/api/v1/exchange/subscriptions"
EVENT_TYPE = "workorder.status"


class HotlineSimulator:
    def __init__(self, client: FlaskClient, credentials: dict[str, str]) -> None:
        self.client = client
        self.credentials = {key: credentials[key] for key in ("client_id", "client_secret")}
        self.receiver = Receiver()
        self.headers: dict[str, str] = {}

    def start(self) -> HotlineSimulator:
        """Start the push endpoint, sign in and subscribe it to the work orders' status changes."""
        self.receiver.start()
        token = self.client.post("/api/v1/exchange/token", json=self.credentials)
        assert token.status_code == 200, token.get_json()
        self.headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
        subscribed = self.client.post(
            SUBSCRIPTIONS, json={"url": self.receiver.url, "event_types": [EVENT_TYPE]}, headers=self.headers
        )
        assert subscribed.status_code == 201, subscribed.get_json()
        self.receiver.secret = subscribed.get_json()["secret"]
        return self

    def stop(self) -> None:
        self.receiver.stop()

    def send(self, work_order: dict[str, Any]) -> TestResponse:
        return self.client.post(ORDERS, json=work_order, headers=self.headers)

    def status(self, order_no: str) -> TestResponse:
        return self.client.get(f"{ORDERS}/{order_no}", headers=self.headers)

    def satisfaction(self, order_no: str, result: str, comment: str | None = None) -> TestResponse:
        body = {"result": result} | ({"comment": comment} if comment else {})
        return self.client.post(f"{ORDERS}/{order_no}/satisfaction", json=body, headers=self.headers)

    @property
    def statuses(self) -> list[dict[str, Any]]:
        """What the hotline was told, verified and once per event, in arrival order."""
        return [event["data"] for event in self.receiver.applied if event["type"] == EVENT_TYPE]

    @property
    def bad_signatures(self) -> int:
        return self.receiver.bad_signatures
