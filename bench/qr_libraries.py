"""segno (what the app uses) against qrcode (the library first named for it) on the badge QR.

What it measures, per library, in this process: the time to encode a badge verification URL (~250 bytes, a
real EdDSA JWS of the shape ``backend.officers.tokens`` issues, behind ``https://…/v/``) at error correction
M into a module matrix, into an SVG and into a PNG of 8 pixels per module with a 4-module quiet zone (what
``backend/officers/badge_card.py`` draws: the matrix for the printed card, the SVG for the badge page, the PNG
for a phone screen). The segno side calls the app's own ``qr_svg`` / ``qr_png``; the qrcode side asks for the
same output (``SvgPathImage``, ``PilImage`` with box_size 8 and border 4). Each figure is the median of
``--repeats`` runs of ``--loops`` calls, in milliseconds per call; the symbol version and error level each
library picked are printed too (segno raises the level when the data still fits the version), and each PNG
is read back with zxing-cpp when it is installed (the tests' decoder) to show both encode the URL.

qrcode is not a dependency of the project and is not installed by ``make``. Without it only segno is
measured; to compare, install it outside the project's venv and put it on the path::

    .venv/bin/pip install --target /tmp/qrcode-lib qrcode
    PYTHONPATH=/tmp/qrcode-lib .venv/bin/python bench/qr_libraries.py
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import infra
import reporting

from backend.officers.badge_card import QUIET_ZONE, qr_png, qr_svg

PNG_SCALE = 8  # qr_png's default: pixels per module on a phone screen


def badge_url() -> str:
    """A static badge token's verify URL, signed as ``backend.officers.tokens.issue`` signs it."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    claims = {"b": "FJ350502-2026-004518", "a": "11350500MB0100002E", "t": int(time.time())}
    token = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "b-2026-12"})
    return f"https://zfgs.quanzhou.gov.cn/v/{token}"


def segno_renderers(url: str) -> dict[str, Callable[[], Any]]:
    import segno

    return {
        "matrix": lambda: segno.make_qr(url, error="m").matrix,
        "svg": lambda: qr_svg(url),
        "png": lambda: qr_png(url, scale=PNG_SCALE),
    }


def qrcode_renderers(url: str) -> dict[str, Callable[[], Any]]:
    import qrcode
    from qrcode.image.pil import PilImage
    from qrcode.image.svg import SvgPathImage

    def symbol(**options: Any) -> qrcode.QRCode:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE, **options)
        code.add_data(url)
        code.make(fit=True)
        return code

    def png() -> bytes:
        out = io.BytesIO()
        symbol(box_size=PNG_SCALE).make_image(image_factory=PilImage).save(out)
        return out.getvalue()

    def svg() -> str:
        return symbol().make_image(image_factory=SvgPathImage).to_string(encoding="unicode")

    return {"matrix": lambda: symbol().get_matrix(), "svg": svg, "png": png}


def symbol_of(library: str, url: str) -> str:
    """Version and error level the library chose for the URL, e.g. ``11-M``."""
    if library == "segno":
        import segno

        code = segno.make_qr(url, error="m")
        return f"{code.version}-{code.error}"
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(url)
    code.make(fit=True)
    return f"{code.version}-M"


def decodes(png: bytes, url: str) -> str:
    """Whether zxing-cpp reads the URL back from the PNG: yes, NO, or - when zxing-cpp is not installed."""
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        return "-"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return "yes" if [result.text for result in found] == [url] else "NO"


def per_call_ms(renderers: dict[str, dict[str, Callable[[], Any]]], loops: int, repeats: int) -> dict[str, dict]:
    """Median ms per call for each library and output; the runs are interleaved (every library and output
    once per repeat) so a change in the machine's load falls on all of them alike."""
    runs: dict[str, dict[str, list[float]]] = {
        library: {kind: [] for kind in kinds} for library, kinds in renderers.items()
    }
    for kinds in renderers.values():
        for render in kinds.values():
            render()  # first call outside the timing: imports and lazy tables
    for _ in range(repeats):
        for library, kinds in renderers.items():
            for kind, render in kinds.items():
                started = time.perf_counter()
                for _ in range(loops):
                    render()
                runs[library][kind].append((time.perf_counter() - started) / loops * 1000)
    return {
        library: {kind: round(statistics.median(t), 2) for kind, t in kinds.items()} for library, kinds in runs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loops", type=int, default=50, help="calls per timed run (default 50)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs; the median is reported (default 5)")
    args = parser.parse_args()
    infra.exit_on_sigterm()
    url = badge_url()
    libraries = {"segno": segno_renderers}
    try:
        import qrcode  # noqa: F401
    except ImportError:
        reporting.log("qrcode is not importable: measuring segno only (see --help to add qrcode)")
    else:
        libraries["qrcode"] = qrcode_renderers
    result: dict[str, Any] = {"bench": "qr_libraries", "url_bytes": len(url.encode()), **reporting.environment()}
    renderers = {library: make(url) for library, make in libraries.items()}
    timings = per_call_ms(renderers, args.loops, args.repeats)
    rows = []
    for library, kinds in renderers.items():
        png, svg = kinds["png"](), kinds["svg"]()
        result[library] = {
            "version": metadata.version(library),
            "symbol": symbol_of(library, url),
            "ms_per_call": timings[library],
            "png_bytes": len(png),
            "svg_bytes": len(svg.encode()),
        }
        figures = timings[library]
        rows.append(
            (
                f"{library} {metadata.version(library)}",
                result[library]["symbol"],
                figures["matrix"],
                figures["svg"],
                figures["png"],
                len(svg.encode()),
                len(png),
                decodes(png, url),
            )
        )
    reporting.print_table(
        f"Badge QR, {len(url.encode())}-byte URL, error correction M (median of {args.repeats} x "
        f"{args.loops} calls; PNG {PNG_SCALE} px/module, quiet zone {QUIET_ZONE})",
        ("library", "symbol", "matrix ms", "svg ms", "png ms", "svg bytes", "png bytes", "decodes"),
        rows,
    )
    if "qrcode" in result:
        ratios = {kind: round(result["qrcode"]["ms_per_call"][kind] / result["segno"]["ms_per_call"][kind], 1)
                  for kind in ("matrix", "svg", "png")}  # fmt: skip
        result["qrcode_over_segno"] = ratios
        print(f"qrcode / segno time: {ratios}")
    reporting.emit_json(result)


if __name__ == "__main__":
    main()
