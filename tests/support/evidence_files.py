"""Files a complainant might attach, built here byte by byte: photos with a location, PDFs, bombs, programs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

# EXIF tags (CIPA DC-008): Orientation in IFD0, and the pointer to the GPS IFD with its latitude and longitude.
ORIENTATION, GPS_IFD = 0x0112, 0x8825
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4
# Orientation 6: the camera was turned; a viewer rotates the stored pixels 90° clockwise to show them upright.
ROTATE_90_CLOCKWISE = 6


def photo_with_location(image_format: str = "JPEG", size: tuple[int, int] = (40, 20)) -> bytes:
    """A two-colour photo (red left half, blue right) whose EXIF says where it was taken (泉州) and that it is
    to be shown turned 90° clockwise."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ORIENTATION] = ROTATE_90_CLOCKWISE
    exif.get_ifd(GPS_IFD).update(
        {
            GPS_LATITUDE_REF: "N",
            GPS_LATITUDE: (24.0, 54.0, 36.0),
            GPS_LONGITUDE_REF: "E",
            GPS_LONGITUDE: (118.0, 35.0, 24.0),
        }
    )
    out = io.BytesIO()
    image.save(out, format=image_format, exif=exif)
    return out.getvalue()


def plain_image(image_format: str = "PNG", size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, format=image_format)
    return out.getvalue()


def pdf() -> bytes:
    """The smallest well-formed PDF: one empty page."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return body


def elf_program() -> bytes:
    """The start of a Linux executable: ELF magic, 64-bit, little-endian, then a header's worth of bytes."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(56) + b"\x90" * 4096


def pe_program() -> bytes:
    """The start of a Windows executable: the MZ stub and its PE signature."""
    return b"MZ" + bytes(58) + struct.pack("<I", 64) + b"PE\x00\x00" + b"\x90" * 4096


def png_bomb(side: int) -> bytes:
    """A valid greyscale PNG of side × side pixels, all black: a few hundred kilobytes that decode to side² bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = bytes(side + 1)  # filter byte 0, then the row's pixels
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
