"""The printable badge card (PNG and SVG) and the plain QR shown on an officer's phone.

Both card formats are drawn from one layout computed in millimetres (`_layout`), so the PNG and
the SVG always agree. Text is measured with the same font the PNG draws with; the SVG names that
font first and leaves the glyphs to the viewer, so its text stays selectable and searchable.

The QR uses error correction M. A verification URL is ~250 bytes: version 11-12 at M (61-65
modules), 14-15 at Q (73-77). In the 25 mm the card can give the symbol, M makes modules of
~0.4 mm (about 5 dots at 300 dpi), Q only ~0.33 mm. Module size is what lets a phone camera focus
on and resolve a small card in poor light, and a laminated card seldom loses area to damage, which
is what Q's extra redundancy would buy. segno raises the level for free whenever the data still
fits the same version (`boost_error`), so some URLs end up at Q anyway.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import itertools
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont, ImageOps


@dataclass(frozen=True)
class BadgeCard:
    officer_name: str
    agency_name: str
    badge_no: str
    domains: tuple[str, ...]  # enforcement domains, e.g. ("食品安全", "市场监管")
    valid_until: dt.date | None
    url: str  # what the QR encodes
    photo: bytes | None = None  # JPEG or PNG bytes, or None (draw a neutral placeholder)
    font: str | None = None  # the font file (BADGE_FONT_PATH), or None for the bundled one


# -- QR ---------------------------------------------------------------------------------------
QUIET_ZONE = 4  # modules of light margin around the symbol, as ISO/IEC 18004 requires


def _qr(url: str) -> segno.QRCode:
    return segno.make_qr(url, error="m")


def qr_png(url: str, scale: int = 8) -> bytes:
    """A plain QR with its quiet zone, `scale` pixels per module: the dynamic badge on a phone screen."""
    out = io.BytesIO()
    _qr(url).save(out, kind="png", scale=scale, border=QUIET_ZONE)
    return out.getvalue()


def qr_svg(url: str) -> str:
    """The same QR as SVG, one unit per module, with its quiet zone.

    Only a viewBox, no width or height, so the page sizes it; the light colour is explicit so the
    quiet zone stays white on a page in dark mode, where a transparent one would fail to scan.
    """
    out = io.BytesIO()
    _qr(url).save(out, kind="svg", border=QUIET_ZONE, xmldecl=False, omitsize=True, light="#fff")
    return out.getvalue().decode()


# -- fonts ------------------------------------------------------------------------------------
BUNDLED_FONT = Path(__file__).with_name("fonts") / "NotoSansSC-Subset.otf"
# Where Debian's CJK font packages put theirs, with the face index of Simplified Chinese.
SYSTEM_CJK_FONTS = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
)
SVG_FONT_FAMILY = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"

FontFace = tuple[str, int]  # a font file and the face in it (collections hold several)


# Shared by the server's threads: Pillow's FreeType calls never release the GIL (free-threaded, it locks each font).
@functools.lru_cache(maxsize=64)
def _font(face: FontFace, size_px: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(face[0], size_px, index=face[1])


def _glyph_bitmap(face: FontFace, char: str) -> bytes:
    font = _font(face, 32)
    image = Image.new("L", (64, 64))
    ImageDraw.Draw(image).text((0, 0), char, font=font, fill=255)
    return image.tobytes()


@functools.lru_cache(maxsize=4096)
def _has_glyph(face: FontFace, char: str) -> bool:
    # Pillow cannot query a font's character map; a missing character draws the font's .notdef
    # glyph, so compare with a code point no font maps. Blank characters draw nothing either way.
    return char.isspace() or _glyph_bitmap(face, char) != _glyph_bitmap(face, "\U0010fffd")


def _covers(face: FontFace, text: str) -> bool:
    return all(_has_glyph(face, char) for char in text)


def _system_cjk_fonts(text: str) -> list[FontFace]:
    query = "sans-serif:lang=zh-cn:charset=" + " ".join(f"{ord(char):x}" for char in set(text))
    try:
        found = subprocess.run(
            ["fc-match", "--format=%{file}\n%{index}", query], capture_output=True, text=True, timeout=5, check=True
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        found = []
    faces = [(found[0], int(found[1]))] if len(found) == 2 and found[1].isdigit() else []
    return faces + [face for face in SYSTEM_CJK_FONTS if Path(face[0]).is_file()]


@functools.lru_cache(maxsize=256)
def _face_for(primary: FontFace, text: str) -> FontFace:
    # A rare character in a name (the subset has GB2312 and common name characters) must not print
    # as a blank: use a system CJK font that has every character, if there is one.
    if _covers(primary, text):
        return primary
    return next((face for face in _system_cjk_fonts(text) if _covers(face, text)), primary)


def _face(text: str, font: str | None) -> FontFace:
    return _face_for((font or str(BUNDLED_FONT), 0), text)


def _width(text: str, size: float, face: FontFace) -> float:
    """Advance width of `text` in mm at `size` mm."""
    return _font(face, 100).getlength(text) * size / 100


# -- layout (millimetres) ---------------------------------------------------------------------
CARD_W, CARD_H = 85.6, 54.0  # ISO/IEC 7810 ID-1, a bank card
MARGIN = 3.5
BAND_H = 11.5
RULE_H = 0.6  # the gold rule under the red band
PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H = MARGIN, 15.5, 19.0, 25.5  # about 3:4, an ID photo
TEXT_X = PHOTO_X + PHOTO_W + 3.0
QR_SIZE = 25.0
QR_X, QR_Y = CARD_W - MARGIN - QR_SIZE, PHOTO_Y
TEXT_RIGHT = QR_X - 2.0  # keeps the QR's quiet zone (4 modules, ~1.7 mm) free of text

RED, GOLD, WHITE = "#c0161e", "#d8a93a", "#ffffff"
INK, MUTED, LINE = "#1a1a1a", "#6b6b6b", "#c9ccd1"
PLACEHOLDER_BG, PLACEHOLDER_FG = "#e8ebef", "#b6bcc4"
FOOT_H = 1.2  # the red rule along the bottom edge
ELLIPSIS = "…"
MIDDLE_DOTS = "·・"
NO_LINE_START = "、，。" + MIDDLE_DOTS


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str | None
    stroke: str | None = None
    stroke_w: float = 0.0


@dataclass(frozen=True)
class _Circle:
    cx: float
    cy: float
    r: float
    fill: str


@dataclass(frozen=True)
class _Dome:  # the upper half of an ellipse standing on `base`: the placeholder's shoulders
    cx: float
    base: float
    rx: float
    ry: float
    fill: str


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # baseline
    text: str
    size: float  # em, mm
    fill: str
    face: FontFace
    anchor: str = "start"  # start | middle | end, as in SVG
    bold: bool = False


@dataclass(frozen=True)
class _Photo:
    x: float
    y: float
    w: float
    h: float
    data: bytes


@dataclass(frozen=True)
class _QR:
    x: float
    y: float
    size: float
    matrix: tuple[bytearray, ...]  # segno's, 1 = dark, without quiet zone


_Shape = _Rect | _Circle | _Dome | _Text | _Photo | _QR


def _clean(text: str) -> str:
    # Names come from agencies' systems: drop control characters (invalid in XML, and a newline
    # would make Pillow draw several lines) and collapse runs of whitespace.
    return " ".join("".join(c for c in text if unicodedata.category(c) != "Cc" or c.isspace()).split())


def _ellipsize(text: str, size: float, face: FontFace, width: float) -> str:
    while text and _width(text.rstrip(NO_LINE_START + " ") + ELLIPSIS, size, face) > width:
        text = text[:-1]
    return text.rstrip(NO_LINE_START + " ") + ELLIPSIS


def _wrap(text: str, width: float, size: float, face: FontFace) -> list[str]:
    """`text` filled into lines of `width` mm.

    Chinese breaks between any two characters, but a line may not start with 、 or a middle dot
    (the character before moves down with it), and a transliterated name such as 阿依古丽·买买提
    breaks after its middle dot when that is in the second half of the line.
    """
    lines = [""]
    for char in text:
        line = lines[-1]
        if line and _width(line + char, size, face) > width:
            cut = max(line.rfind(dot) for dot in MIDDLE_DOTS) + 1
            if cut <= len(line) // 2:
                cut = len(line) - 1 if char in NO_LINE_START and len(line) > 1 else len(line)
            lines[-1:] = [line[:cut], line[cut:]]
        lines[-1] += char
    return lines


Fitting = tuple[int, float, float]  # at most this many lines, at a size (mm) from the first down to the second


def _block(
    text: str, width: float, fittings: tuple[Fitting, ...], font: str | None
) -> tuple[list[str], float, FontFace]:
    """Lines of `text` at the largest size the first possible fitting allows, in 0.1 mm steps.

    A field is cut with an ellipsis only when even the last fitting's smallest size is too big.
    """
    text = _clean(text) or "—"
    face = _face(text, font)
    for max_lines, largest, smallest in fittings:
        size = largest
        while size >= smallest:
            lines = _wrap(text, width, size, face)
            if len(lines) <= max_lines:
                return lines, size, face
            size = round(size - 0.1, 1)
    max_lines, _, size = fittings[-1]
    lines = _wrap(text, width, size, face)
    return [*lines[: max_lines - 1], _ellipsize("".join(lines[max_lines - 1 :]), size, face, width)], size, face


def _date(date: dt.date) -> str:
    return f"{date.year}年{date.month}月{date.day}日"


def _photo_shapes(photo: bytes | None) -> list[_Shape]:
    frame = _Rect(PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H, None, LINE, 0.2)
    if photo is not None:
        return [_Photo(PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H, photo), frame]
    cx = PHOTO_X + PHOTO_W / 2
    return [
        _Rect(PHOTO_X, PHOTO_Y, PHOTO_W, PHOTO_H, PLACEHOLDER_BG),
        _Circle(cx, PHOTO_Y + PHOTO_H * 0.38, PHOTO_W * 0.2, PLACEHOLDER_FG),
        _Dome(cx, PHOTO_Y + PHOTO_H, PHOTO_W * 0.4, PHOTO_H * 0.33, PLACEHOLDER_FG),
        frame,
    ]


def _layout(card: BadgeCard) -> list[_Shape]:
    title, title_size = "行政执法证", 5.2
    title_face = _face(title, card.font)
    agency_x = MARGIN + _width(title, title_size, title_face) + 5.0
    agency, agency_size, agency_face = _block(
        card.agency_name, CARD_W - MARGIN - agency_x, ((1, 2.9, 2.5), (2, 2.5, 2.1)), card.font
    )
    pitch = 1.2 * agency_size
    # A baseline 0.38 em below a line's middle centres CJK glyphs on it.
    agency_y = BAND_H / 2 - pitch * (len(agency) - 1) / 2 + 0.38 * agency_size
    shapes: list[_Shape] = [
        _Rect(0, 0, CARD_W, CARD_H, WHITE),
        _Rect(0, 0, CARD_W, BAND_H, RED),
        _Rect(0, BAND_H, CARD_W, RULE_H, GOLD),
        _Rect(0, CARD_H - FOOT_H, CARD_W, FOOT_H, RED),
        _Text(MARGIN, BAND_H / 2 + 0.38 * title_size, title, title_size, WHITE, title_face, bold=True),
        *(
            _Text(CARD_W - MARGIN, agency_y + i * pitch, line, agency_size, WHITE, agency_face, "end")
            for i, line in enumerate(agency)
        ),
        *_photo_shapes(card.photo),
    ]

    width = TEXT_RIGHT - TEXT_X
    names, name_size, name_face = _block(card.officer_name, width, ((1, 6.0, 4.0), (2, 4.0, 3.0)), card.font)
    y = PHOTO_Y + 0.88 * name_size - 1.2 * name_size  # puts the top of the name's glyphs level with the photo's
    for line in names:
        y += 1.2 * name_size
        shapes.append(_Text(TEXT_X, y, line, name_size, INK, name_face, bold=True))

    def row(label: str, value: str, fittings: tuple[Fitting, ...]) -> None:
        nonlocal y
        y += 4.6
        shapes.append(_Text(TEXT_X, y, label, 2.1, MUTED, _face(label, card.font)))
        lines, size, face = _block(value, width, fittings, card.font)
        for line in lines:
            y += size + 0.6
            shapes.append(_Text(TEXT_X, y, line, size, INK, face))

    row("执法证号", card.badge_no, ((1, 3.0, 2.2),))
    row("执法领域", "、".join(filter(None, map(_clean, card.domains))), ((2, 2.7, 2.4),))
    row("有效期至", "长期" if card.valid_until is None else _date(card.valid_until), ((1, 3.0, 3.0),))

    caption = "扫码核验真伪"
    shapes += [
        _QR(QR_X, QR_Y, QR_SIZE, _qr(card.url).matrix),
        # 4.3 mm down keeps the caption's glyphs out of the quiet zone.
        _Text(QR_X + QR_SIZE / 2, QR_Y + QR_SIZE + 4.3, caption, 2.4, MUTED, _face(caption, card.font), "middle"),
    ]
    return shapes


# -- PNG --------------------------------------------------------------------------------------
def _fit_photo(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The photo cropped to the frame's shape and scaled to `size` pixels, upright, as RGB."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ("JPEG", "PNG"):
            raise ValueError(f"badge photo must be JPEG or PNG, not {image.format}")
        image = ImageOps.exif_transpose(image)
        # Flatten a transparent PNG onto white rather than onto black.
        flat = Image.new("RGB", image.size, WHITE)
        flat.paste(image, mask=image.convert("RGBA").getchannel("A"))
    except (OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"badge photo is not a readable image: {error}") from error
    # Faces sit in the upper part of an ID photo: crop more from the bottom than from the top.
    return ImageOps.fit(flat, size, Image.Resampling.LANCZOS, centering=(0.5, 0.4))


def render_png(card: BadgeCard, dpi: int = 300) -> bytes:
    """The card at `dpi`, 85.6 x 54 mm (1011 x 638 px at 300 dpi), with the dpi recorded for printing."""
    scale = dpi / 25.4  # px per mm

    def px(mm: float) -> int:
        return round(mm * scale)

    image = Image.new("RGB", (px(CARD_W), px(CARD_H)), WHITE)
    draw = ImageDraw.Draw(image)
    for shape in _layout(card):
        match shape:
            case _Rect(x, y, w, h, fill, stroke, stroke_w):
                width = max(1, px(stroke_w)) if stroke else 0
                draw.rectangle((px(x), px(y), px(x + w) - 1, px(y + h) - 1), fill=fill, outline=stroke, width=width)
            case _Circle(cx, cy, r, fill):
                draw.ellipse((px(cx - r), px(cy - r), px(cx + r), px(cy + r)), fill=fill)
            case _Dome(cx, base, rx, ry, fill):
                draw.chord((px(cx - rx), px(base - ry), px(cx + rx), px(base + ry)), 180, 360, fill=fill)
            case _Text(x, y, text, size, fill, face, anchor, bold):
                font = _font(face, size * scale)
                # One face only (see fonts/README.md): bold is the glyphs stroked in their own colour.
                stroke = size * scale * 0.025 if bold else 0
                draw.text(
                    (x * scale, y * scale),
                    text,
                    fill=fill,
                    font=font,
                    anchor={"start": "ls", "middle": "ms", "end": "rs"}[anchor],
                    stroke_width=stroke,
                    stroke_fill=fill,
                )
            case _Photo(x, y, w, h, data):
                image.paste(_fit_photo(data, (px(x + w) - px(x), px(y + h) - px(y))), (px(x), px(y)))
            case _QR(x, y, size, matrix):
                n = len(matrix)
                modules = Image.frombytes("L", (n, n), bytes(255 * (1 - bit) for row in matrix for bit in row))
                # Nearest-neighbour keeps modules crisp; they come out within one pixel of each other.
                side = px(x + size) - px(x)
                image.paste(modules.resize((side, side), Image.Resampling.NEAREST), (px(x), px(y)))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


# -- SVG --------------------------------------------------------------------------------------
SVG_PHOTO_DPI = 300  # the embedded photo is re-encoded at print resolution, which also drops its metadata


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _qr_path(matrix: tuple[bytearray, ...]) -> str:
    """Dark modules as one path in module units: each horizontal run of dark modules is a rectangle."""
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        for dark, run in itertools.groupby(row):
            n = len(list(run))
            if dark:
                parts.append(f"M{x} {y}h{n}v1h-{n}z")
            x += n
    return "".join(parts)


def render_svg(card: BadgeCard) -> str:
    """The same card as SVG in mm: text as text, the QR as one vector path, the photo as a data: URI."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{_num(CARD_W)}mm" height="{_num(CARD_H)}mm" '
        f'viewBox="0 0 {_num(CARD_W)} {_num(CARD_H)}" font-family="{_esc(SVG_FONT_FAMILY)}">'
    ]
    for shape in _layout(card):
        match shape:
            case _Rect(x, y, w, h, fill, stroke, stroke_w):
                paint = f'fill="{fill or "none"}"' + (
                    f' stroke="{stroke}" stroke-width="{_num(stroke_w)}"' if stroke else ""
                )
                out.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" {paint}/>')
            case _Circle(cx, cy, r, fill):
                out.append(f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="{_num(r)}" fill="{fill}"/>')
            case _Dome(cx, base, rx, ry, fill):
                d = f"M{_num(cx - rx)} {_num(base)}A{_num(rx)} {_num(ry)} 0 0 1 {_num(cx + rx)} {_num(base)}z"
                out.append(f'<path d="{d}" fill="{fill}"/>')
            case _Text(x, y, text, size, fill, _, anchor, bold):
                weight = ' font-weight="700"' if bold else ""
                out.append(
                    f'<text x="{_num(x)}" y="{_num(y)}" font-size="{_num(size)}" fill="{fill}" '
                    f'text-anchor="{anchor}"{weight}>{_esc(text)}</text>'
                )
            case _Photo(x, y, w, h, data):
                size = (round(w * SVG_PHOTO_DPI / 25.4), round(h * SVG_PHOTO_DPI / 25.4))
                jpeg = io.BytesIO()
                _fit_photo(data, size).save(jpeg, format="JPEG", quality=88)
                uri = "data:image/jpeg;base64," + base64.b64encode(jpeg.getvalue()).decode()
                out.append(
                    f'<image x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" xlink:href="{uri}"/>'
                )
            case _QR(x, y, size, matrix):
                module = size / len(matrix)
                out.append(
                    f'<path class="qr" transform="translate({_num(x)} {_num(y)}) scale({module:.6f})" fill="#000" '
                    f'shape-rendering="crispEdges" d="{_qr_path(matrix)}"/>'
                )
    out.append("</svg>")
    return "\n".join(out)
