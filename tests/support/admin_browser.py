"""A person using the admin page: their own cookie jar, the CSRF token read from the page."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

PASSWORD = "a long password 1"


class AdminBrowser:
    """One person's browser: its own cookie jar, reading the CSRF token from the page as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def token(self, path: str = "/admin/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username: str, password: str = PASSWORD, **extra: str):
        form = {"username": username, "password": password, "csrf_token": self.token(), **extra}
        return self.client.post("/admin/login", data=form)

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def act(self, tracking_no: str, action: str, **fields: str):
        token = self.token("/admin/complaints")
        return self.client.post(
            f"/admin/complaints/{tracking_no}/{action}", data={"csrf_token": token, **fields}, follow_redirects=True
        )

    def page(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, (response.status_code, response.location)
        return response.get_data(as_text=True)


def create_user(runner, username: str, role: str = "handler", *, agency: str | None = None, region: str | None = None):
    """An admin account made as an operator makes one (``flask admin create``), with PASSWORD."""
    args = ["admin", "create", "--username", username, "--role", role]
    args += ["--agency", agency] if agency else []
    args += ["--region", region] if region else []
    result = runner.invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
