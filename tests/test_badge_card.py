"""The badge card and QR: decoded by a real QR decoder (zxing-cpp), also from a poor phone photo."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import random
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

from backend import config as app_config
from backend.officers import badge_card
from backend.officers.badge_card import BadgeCard, qr_png, qr_svg, render_png, render_svg
from tests.support.qr import decode_qr

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def _token(rng: random.Random) -> str:
    """A JWS-shaped token of 214 characters: base64url header, claims and Ed25519 signature."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return ".".join("".join(rng.choice(alphabet) for _ in range(n)) for n in (42, 84, 86))


URL = "https://zhifa.scjg.fujian.gov.cn/v/" + _token(random.Random(7))


def card(**changes: object) -> BadgeCard:
    fields: dict = {
        "officer_name": "张伟",
        "agency_name": "福州市鼓楼区市场监督管理局",
        "badge_no": "35010220190012",
        "domains": ("食品安全", "市场监管"),
        "valid_until": dt.date(2028, 12, 31),
        "url": URL,
    }
    return BadgeCard(**{**fields, **changes})


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Overrides conftest's autouse fixture: nothing here needs the Flask app or a database."""
    yield


@pytest.fixture(scope="module")
def decode() -> Callable[[Image.Image], list[str]]:
    """A real QR decoder (zxing-cpp): every QR symbol it finds in the image, as text."""
    return decode_qr


def png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def phone_photo(image: Image.Image, width: int = 600) -> Image.Image:
    """What a phone's scanner gets from a quick snap: far fewer pixels (about 3 per module on a card)."""
    return image.convert("L").resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)


def poor_light(image: Image.Image, seed: int) -> Image.Image:
    """Dim light: a little out of focus, half the contrast, darker, sensor noise the camera then smooths."""
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    image = ImageEnhance.Brightness(ImageEnhance.Contrast(image).enhance(0.5)).enhance(0.6)
    rng = random.Random(seed)
    noise = bytes(min(255, max(0, round(rng.gauss(128, 10)))) for _ in range(image.width * image.height))
    image = ImageChops.add(image, Image.frombytes("L", image.size, noise), offset=-128)
    return image.filter(ImageFilter.GaussianBlur(0.5))


def screen_photo(qr: Image.Image, side: int) -> Image.Image:
    """A phone screen showing the QR, photographed: the QR `side` px wide in a 600 px frame."""
    frame = Image.new("L", (600, 450), 60)
    frame.paste(qr.convert("L").resize((side, side), Image.Resampling.LANCZOS), ((600 - side) // 2, 80))
    return frame


# -- the printed card -------------------------------------------------------------------------
@pytest.mark.parametrize(("dpi", "size"), [(300, (1011, 638)), (600, (2022, 1276))])
def test_card_png_is_id1_size_at_the_requested_dpi(dpi: int, size: tuple[int, int]) -> None:
    image = png(render_png(card(), dpi=dpi))
    assert image.size == size
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.1)


def test_card_qr_decodes_at_print_resolution(decode) -> None:
    assert decode(png(render_png(card()))) == [URL]


def test_card_qr_decodes_from_a_600px_phone_photo(decode) -> None:
    assert decode(phone_photo(png(render_png(card())))) == [URL]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_card_qr_decodes_from_a_600px_phone_photo_in_poor_light(decode, seed: int) -> None:
    assert decode(poor_light(phone_photo(png(render_png(card()))), seed)) == [URL]


def test_qr_error_correction_is_m_or_better_with_a_quiet_zone() -> None:
    qr = badge_card._qr(URL)
    assert qr.error in ("M", "Q", "H")
    image = png(qr_png(URL, scale=1))
    assert image.size == (qr.symbol_size(border=0)[0] + 8,) * 2
    ring = [
        image.convert("L").getpixel((x, y))
        for x in range(image.width)
        for y in range(image.height)
        if min(x, y, image.width - 1 - x, image.height - 1 - y) < badge_card.QUIET_ZONE
    ]
    assert set(ring) == {255}


@pytest.mark.parametrize("filler", ["i", "1", "W", "国"])  # narrow to wide: lines end at every distance from the edge
def test_card_keeps_the_qr_quiet_zone_white_whatever_the_text(filler: str) -> None:
    long = card(officer_name=filler * 40, agency_name=filler * 80, badge_no=filler * 80, domains=(filler * 30,) * 4)
    image = png(render_png(long, dpi=300)).convert("L")
    scale = 300 / 25.4
    quiet = badge_card.QR_SIZE / len(badge_card._qr(URL).matrix) * badge_card.QUIET_ZONE
    left, top = round(badge_card.QR_X * scale), round(badge_card.QR_Y * scale)
    side = round((badge_card.QR_X + badge_card.QR_SIZE) * scale) - left  # the symbol is square in pixels
    inner = (left, top, left + side, top + side)
    margin = round(quiet * scale)
    outer = (left - margin, top - margin, left + side + margin, top + side + margin)
    ring = [
        image.getpixel((x, y))
        for x in range(outer[0], outer[2])
        for y in range(outer[1], outer[3])
        if not (inner[0] <= x < inner[2] and inner[1] <= y < inner[3])
    ]
    assert min(ring) == 255


def test_card_with_a_photo_and_the_placeholder_both_render(decode) -> None:
    photo = Image.new("RGB", (300, 400), "#4a78b0")
    ImageDraw.Draw(photo).ellipse((90, 80, 210, 220), fill="#e8c4a0")
    jpeg, transparent = io.BytesIO(), io.BytesIO()
    photo.save(jpeg, format="JPEG")
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(transparent, format="PNG")
    for data in (jpeg.getvalue(), transparent.getvalue(), None):
        assert decode(png(render_png(card(photo=data)))) == [URL]


@pytest.mark.parametrize("data", [b"not an image", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"])
def test_card_rejects_a_photo_that_is_not_jpeg_or_png(data: bytes) -> None:
    with pytest.raises(ValueError, match="photo"):
        render_png(card(photo=data))


def test_bundled_font_covers_gb2312_and_name_characters_beyond_it() -> None:
    bundled = (str(badge_card.BUNDLED_FONT), 0)
    gb2312 = []
    for hi in range(0xB0, 0xF8):  # the two levels of hanzi
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):  # unassigned codes at the end of level 2
                gb2312.append(bytes([hi, lo]).decode("gb2312"))
    assert len(gb2312) == 6763
    assert badge_card._covers(bundled, "".join(gb2312) + "堃玥珺昇喆犇燚祎瑄镕䶮龑·")
    assert badge_card.BUNDLED_FONT.stat().st_size < 3_000_000


def test_name_outside_gb2312_renders() -> None:
    for name in ("王堃", "李龘", "张𠀀"):  # in the subset; in system CJK fonts only; in almost none
        named = card(officer_name=name)
        assert png(render_png(named)).size == (1011, 638)
        assert name in svg_text(render_svg(named))


def test_badge_font_path_replaces_the_bundled_font(monkeypatch, tmp_path) -> None:
    font = tmp_path / "agency-font.otf"
    font.symlink_to(badge_card.BUNDLED_FONT)
    monkeypatch.setenv("BADGE_FONT_PATH", str(font))
    configured = app_config.load(str(tmp_path))["BADGE_FONT_PATH"]
    assert badge_card._face("张伟", configured) == (str(font), 0)
    monkeypatch.setenv("BADGE_FONT_PATH", str(tmp_path / "missing.otf"))
    with pytest.raises(OSError):
        render_png(card(font=app_config.load(str(tmp_path))["BADGE_FONT_PATH"]))


# -- SVG ----------------------------------------------------------------------------------------
def svg_text(svg: str) -> str:
    return "".join(element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text"))


def qr_modules_from_png(data: bytes) -> list[list[int]]:
    """The module matrix of a qr_png image (scale 1), without its quiet zone: 1 = dark."""
    image = png(data).convert("L")
    q = badge_card.QUIET_ZONE
    return [[int(image.getpixel((x, y)) < 128) for x in range(q, image.width - q)] for y in range(q, image.height - q)]


def qr_modules_from_svg_path(d: str, n: int) -> list[list[int]]:
    matrix = [[0] * n for _ in range(n)]
    for x, y, run in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", d):
        for i in range(int(run)):
            matrix[int(y)][int(x) + i] = 1
    return matrix


def test_card_svg_is_id1_in_mm_with_text_as_text() -> None:
    root = ET.fromstring(render_svg(card(valid_until=None)))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("85.6mm", "54mm", "0 0 85.6 54")
    text = svg_text(render_svg(card(valid_until=None)))
    for expected in (
        "行政执法证",
        "福州市鼓楼区市场监督管理局",
        "张伟",
        "执法证号",
        "35010220190012",
        "执法领域",
        "食品安全、市场监管",
        "有效期至",
        "长期",
        "扫码核验真伪",
    ):
        assert expected in text
    assert "2028年12月31日" in svg_text(render_svg(card()))


def test_card_svg_qr_path_is_the_same_symbol_as_qr_png() -> None:
    expected = qr_modules_from_png(qr_png(URL, scale=1))  # test_qr_png_decodes_and_scales decodes this symbol
    (path,) = [p for p in ET.fromstring(render_svg(card())).iter(f"{SVG}path") if p.get("class") == "qr"]
    assert qr_modules_from_svg_path(path.get("d"), len(expected)) == expected
    module = badge_card.QR_SIZE / len(expected)
    assert path.get("transform") == f"translate({badge_card.QR_X:g} {badge_card.QR_Y:g}) scale({module:.6f})"


def test_card_svg_escapes_text_from_agency_systems() -> None:
    name, agency, badge_no, domain = (
        '<script>alert("x")</script>',
        "A&B <b>市场监管</b>",
        '"><svg onload=1>',
        "食</text>",
    )
    svg = render_svg(card(officer_name=name, agency_name=agency, badge_no=badge_no, domains=(domain,)))
    root = ET.fromstring(svg)  # well-formed despite the markup in every field
    assert "<script" not in svg and "<svg onload" not in svg
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", "script", f"{SVG}b")]
    text = svg_text(svg)
    for field in (name, agency, badge_no, domain):
        assert field in text


def test_card_svg_drops_control_characters() -> None:
    text = svg_text(render_svg(card(officer_name="张\x00伟\x1b\n", badge_no="3501\t0012")))
    assert "张伟" in text and "3501 0012" in text


def test_card_svg_embeds_the_photo_as_a_jpeg_data_uri() -> None:
    photo = io.BytesIO()
    Image.new("RGB", (600, 800), "#4a78b0").save(photo, format="PNG")
    (image,) = ET.fromstring(render_svg(card(photo=photo.getvalue()))).iter(f"{SVG}image")
    prefix = "data:image/jpeg;base64,"
    assert image.get(XLINK_HREF).startswith(prefix)
    embedded = png(base64.b64decode(image.get(XLINK_HREF).removeprefix(prefix)))
    assert embedded.format == "JPEG" and embedded.size == (224, 301)  # 19 x 25.5 mm at 300 dpi


def test_long_fields_wrap_or_end_in_an_ellipsis() -> None:
    text = svg_text(render_svg(card(officer_name="阿依古丽·买买提江·艾尔肯", domains=("食品安全",) * 12)))
    assert "阿依古丽·" in text and "买买提江·艾尔肯" in text  # two lines, broken after a middle dot
    assert text.count("食品安全") < 12 and "…" in text


# -- the phone's dynamic badge ------------------------------------------------------------------
def test_qr_png_decodes_and_scales(decode) -> None:
    image = png(qr_png(URL, scale=8))
    assert image.width == (badge_card._qr(URL).symbol_size(border=0)[0] + 8) * 8
    assert decode(image) == [URL]


@pytest.mark.parametrize("seed", [1, 2])
def test_qr_png_decodes_from_a_photo_of_a_phone_screen_in_poor_light(decode, seed: int) -> None:
    assert decode(poor_light(screen_photo(png(qr_png(URL)), side=200), seed)) == [URL]


def test_qr_svg_is_a_scalable_svg_with_a_white_quiet_zone() -> None:
    root = ET.fromstring(qr_svg(URL))
    assert root.tag == f"{SVG}svg" and root.get("width") is None
    n = badge_card._qr(URL).symbol_size(border=0)[0] + 8
    assert root.get("viewBox") == f"0 0 {n} {n}"
    assert any(e.get("fill") == "#fff" for e in root.iter(f"{SVG}path"))
    assert any(e.get("stroke") == "#000" for e in root.iter(f"{SVG}path"))
