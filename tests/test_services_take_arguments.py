"""Services take what they need (agency, actor, user, client address) as arguments, never from the request.

Only the web layer reads Flask's request state: views (``routes.py``), the auth decorators, the request
hooks and the page renderers listed here; a service, job or CLI module that imports it fails the test.
"""

import ast

from backend.config import ROOT

REQUEST_STATE = {"g", "request", "session", "has_request_context"}
WEB_LAYER = {
    "backend/app.py",
    "backend/input_guard.py",
    "backend/request_log.py",  # the teardown noting the route rule and who asked for the request line
    "backend/extensions/database.py",  # reads GET/HEAD to open read-only transactions
    "backend/extensions/smorest.py",  # the auth decorators put the agency and actor in g
    "backend/admin_pages/auth.py",
    "backend/admin_pages/csrf.py",
    "backend/pages/verify_page.py",
    "miniapp_api/blueprint.py",  # the mini-program's auth decorator
    "miniapp_api/official.py",  # the official account's callback view
}


def request_state_used(source: str) -> set[str]:
    """The names of Flask's request state that ``source`` imports."""
    return {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module == "flask"
        for alias in node.names
        if alias.name in REQUEST_STATE
    }


def test_only_the_web_layer_reads_the_request():
    assert request_state_used("from flask import current_app, g, request") == {"g", "request"}
    modules = [
        path for package in ("backend", "miniapp_api", "search_index") for path in ROOT.glob(f"{package}/**/*.py")
    ]
    readers = {
        name: used
        for path in modules
        if path.name != "routes.py"
        and (name := str(path.relative_to(ROOT))) not in WEB_LAYER
        and (used := request_state_used(path.read_text()))
    }
    assert readers == {}
