"""axe-core in the browser: ``assert_accessible(page)`` fails with a readable list of what it found.

axe-core comes from the PyPI package axe-playwright-python (pinned in requirements-test.txt), which ships
``axe.min.js`` (axe-core 4.12.1 with 0.1.8) inside the wheel: pip installs it beside Playwright, CI needs no
npm step. We inject that file and call ``axe.run`` ourselves so the options and the report are ours.
"""

from __future__ import annotations

from axe_playwright_python.base import AXE_SCRIPT

# What fails a page: axe's two highest impacts (moderate and minor are reported by axe, not enforced here).
FAILING = ("serious", "critical")


def violations(page) -> list[dict]:
    """axe-core's violations of the page as it is now, of a failing impact."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    found = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [violation for violation in found if violation["impact"] in FAILING]


def report(found: list[dict]) -> str:
    """One line per rule (impact, id, help) and one per element it flagged (its selector and HTML)."""
    lines = []
    for violation in found:
        lines.append(f"{violation['impact']} {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page, where: str = "") -> None:
    """No serious or critical axe-core violation on ``page``; else an AssertionError listing them."""
    found = violations(page)
    assert not found, f"axe-core on {where or page.url}:\n{report(found)}"
