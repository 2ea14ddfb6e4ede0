"""Evidence a complainant attaches: photos (JPEG, PNG, WebP) and PDF documents.

A file is judged by its bytes, never by its name or the Content-Type a client declares: an image must
decode with Pillow, a PDF must carry the PDF header and trailer. Images are re-encoded from their pixels
(orientation applied first), so nothing of the original metadata survives: no EXIF, no GPS position,
no XMP. Each file is stored with the sha256 of the bytes kept.

Files live in the database, in the transaction that files or amends the complaint: what the citizen was
told was received is committed with the complaint, backed up and replicated with it, and never an orphan
on a disk nobody backs up (the officers' photos are kept the same way). The limits (size, count, pixels)
keep that small: a handful of files of a few megabytes per complaint.

Only the handlers of the agency working the complaint read them (``for_handler``); no public page or API
shows them, or says there are any.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from flask import current_app
from PIL import Image, ImageOps
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from backend.accounts.models import AdminRole, AdminUser
from backend.audit.services import record
from backend.errors import Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge
from backend.extensions import clock, db

from .models import Complaint, ComplaintEvidence, Status

FIELD = "evidence"
# Pillow's format -> (the format kept, media type, file extension, save options). Re-encoded in its own format, so
# a PNG screenshot stays lossless and a photo stays a photo. Many phones write MPO (a JPEG followed by more
# pictures, such as a depth map): its first picture is kept, as a JPEG.
IMAGE_TYPES = {
    "JPEG": ("JPEG", "image/jpeg", "jpg", {"quality": 90}),
    "MPO": ("JPEG", "image/jpeg", "jpg", {"quality": 90}),
    "PNG": ("PNG", "image/png", "png", {}),
    "WEBP": ("WEBP", "image/webp", "webp", {"quality": 90}),
}
PDF = ("application/pdf", "pdf")
# A PDF starts with its header and ends with %%EOF (ISO 32000-1 7.5.2 and 7.5.5; readers tolerate a few trailing
# bytes after the marker, so the tail is searched rather than matched).
PDF_HEADER = b"%PDF-"
PDF_EOF = b"%%EOF"
PDF_TAIL_BYTES = 1024
# A complaint may take evidence while it is being worked; after the reply it is the record of what was decided.
OPEN_STATUSES = (Status.submitted, Status.accepted)
ACCEPTED_TYPES = "JPEG、PNG、WebP 图片或 PDF 文件"


@dataclass(frozen=True)
class Cleaned:
    data: bytes
    media_type: str
    extension: str
    sha256: str


def read_limited(stream: IO[bytes], limit: int) -> bytes:
    """The file's bytes; one byte over ``limit`` is a 413 naming the field, without reading the rest."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        readable = f"{limit / 1048576:.1f} MB" if limit >= 1048576 else f"{limit // 1024} KB"
        too_large = {FIELD: [f"at most {limit} bytes per file"]}
        raise PayloadTooLarge(f"证据文件过大，每个不超过 {readable}", errors=too_large)
    return data


def clean(data: bytes, *, max_pixels: int) -> Cleaned:
    """The file as it will be kept: a PDF as sent, an image re-encoded without metadata; anything else refused."""
    if not data:
        raise Invalid("证据文件为空", errors={FIELD: ["the file is empty"]})
    if data.startswith(PDF_HEADER):
        if PDF_EOF not in data[-PDF_TAIL_BYTES:]:
            raise Invalid("PDF 文件不完整", errors={FIELD: ["a PDF without its %%EOF trailer"]})
        return Cleaned(data, PDF[0], PDF[1], hashlib.sha256(data).hexdigest())
    return _clean_image(data, max_pixels)


def _clean_image(data: bytes, max_pixels: int) -> Cleaned:
    unknown = Invalid(f"证据须为 {ACCEPTED_TYPES}", errors={FIELD: ["not a JPEG, PNG, WebP image or a PDF"]})
    too_large = Invalid("图片像素过大，请压缩后再上传", errors={FIELD: [f"an image of at most {max_pixels} pixels"]})
    try:
        # open() reads the header only: the pixel count is refused before anything is decoded. Pillow itself
        # refuses a header past twice Image.MAX_IMAGE_PIXELS (DecompressionBombError) at open().
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in IMAGE_TYPES:
                raise unknown
            width, height = image.size
            if width * height > max_pixels:
                raise too_large
            kept_format, media_type, extension, options = IMAGE_TYPES[image.format]
            # The first frame only (an animation's others could multiply the pixels); the EXIF orientation
            # is applied to the pixels, since the tag that carried it goes with the rest of the metadata.
            image.seek(0)
            upright = ImageOps.exif_transpose(image)
            if kept_format == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")  # CMYK and the like: what every browser shows
            elif upright.mode not in ("RGB", "RGBA", "L", "LA"):
                upright = upright.convert("RGBA")  # palette and 16-bit images, transparency kept
            upright.info = {}  # nothing of the original's metadata (EXIF, XMP, text chunks) is written back
            out = io.BytesIO()
            upright.save(out, format=kept_format, **options)
    except Invalid:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_large from None
    except Exception:  # a parser fed hostile bytes fails in many ways: each means "not an image we take"
        raise unknown from None
    kept = out.getvalue()
    return Cleaned(kept, media_type, extension, hashlib.sha256(kept).hexdigest())


def prepare(files: Iterable[IO[bytes]], *, held: int = 0) -> list[Cleaned]:
    """Read, check and clean ``files`` before anything is stored: one refused file refuses them all, so the
    citizen is never left unsure which were kept. ``held``: how many the complaint has already."""
    config = current_app.config
    files = list(files)
    limit = config["COMPLAINT_EVIDENCE_MAX_FILES"]
    if held + len(files) > limit:
        raise Invalid(f"每件投诉最多 {limit} 个证据文件", errors={FIELD: [f"at most {limit} files per complaint"]})
    return [
        clean(
            read_limited(stream, config["COMPLAINT_EVIDENCE_MAX_BYTES"]),
            max_pixels=config["COMPLAINT_EVIDENCE_MAX_PIXELS"],
        )
        for stream in files
    ]


def rows(cleaned: Iterable[Cleaned], *, actor: str) -> list[ComplaintEvidence]:
    now = clock.now()
    return [
        ComplaintEvidence(
            sha256=item.sha256,
            media_type=item.media_type,
            extension=item.extension,
            size=len(item.data),
            data=item.data,
            created_at=now,
            added_by=actor,
        )
        for item in cleaned
    ]


def add_to_filed(complaint: Complaint, upload: FileStorage | None, *, channel: str) -> ComplaintEvidence:
    """One more file for a complaint being worked, from whoever holds its query code; committed, audited."""
    if upload is None:
        raise Invalid("请选择要上传的证据文件", errors={FIELD: ["a file is required"]})
    if complaint.status not in OPEN_STATUSES:
        raise Conflict("该投诉已答复或办结，不能再补充证据", errors={FIELD: [f"complaint is {complaint.status}"]})
    held = db.session.scalar(
        select(func.count()).select_from(ComplaintEvidence).where(ComplaintEvidence.complaint_id == complaint.id)
    )
    [added] = rows(prepare([upload.stream], held=held), actor=f"citizen:{channel}")
    complaint.evidence.append(added)
    record(f"citizen:{channel}", "complaint.evidence_added", "complaint", complaint.tracking_no, sha256=added.sha256)
    db.session.commit()
    return added


def may_read(user: AdminUser, complaint: Complaint) -> bool:
    """The handlers of the agency working it (and of the one it was escalated to): nobody else, not supervisors."""
    return user.role == AdminRole.handler and user.agency_id in (complaint.agency_id, complaint.escalated_to_id)


def for_handler(user: AdminUser, complaint: Complaint, evidence_id: int, *, ip: str | None) -> ComplaintEvidence:
    """One file for a handler to download; each download is audited (committed before the file is sent)."""
    if not may_read(user, complaint):
        raise Forbidden("仅承办单位的办理人员可查看证据", errors={FIELD: ["not a handler of this complaint's agency"]})
    evidence = db.session.scalar(
        select(ComplaintEvidence).where(
            ComplaintEvidence.id == evidence_id, ComplaintEvidence.complaint_id == complaint.id
        )
    )
    if evidence is None:
        raise NotFound("未找到该证据", errors={FIELD: [f"no evidence {evidence_id} on this complaint"]})
    record(
        f"admin:{user.username}",
        "complaint.evidence_read",
        "complaint",
        complaint.tracking_no,
        ip=ip,
        sha256=evidence.sha256,
    )
    db.session.commit()
    return evidence
