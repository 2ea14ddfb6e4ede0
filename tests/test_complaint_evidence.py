"""Complaint evidence: judged by content, images kept without their metadata, stored with a sha256, read only by
the handlers of the agency working the complaint, and never shown publicly."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image, ImageFile, features
from sqlalchemy import select

from backend.audit.models import AuditEntry
from backend.complaints.models import Complaint, ComplaintEvidence
from backend.complaints.schemas import QUERY_CODE_HEADER
from tests.factories import AgencyFactory
from tests.support.admin_browser import AdminBrowser, create_user
from tests.support.complainant import form_token, read_complaint, track
from tests.support.evidence_files import (
    GPS_IFD,
    elf_program,
    pdf,
    pe_program,
    photo_with_location,
    plain_image,
    png_bomb,
)

COMPLAINTS = "/api/v1/complaints"
FORM = "/complaints/new"
IMAGE_FORMATS = ["JPEG", "PNG"] + (["WEBP"] if features.check("webp") else [])


@pytest.fixture
def city(db_session):
    judicial = AgencyFactory(code="SFJ", name="泉州市司法局", region_code="350500", supervises=True)
    market = AgencyFactory(code="MKT", name="泉州市市场监督管理局", region_code="350500", parent=judicial)
    environment = AgencyFactory(code="ENV", name="泉州市生态环境局", region_code="350500", parent=judicial)
    return {"SFJ": judicial, "MKT": market, "ENV": environment}


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    """Two PNG bombs: 13500² pixels, past twice Pillow's MAX_IMAGE_PIXELS (Pillow's own DecompressionBombError at
    open), and 10000², under that but past COMPLAINT_EVIDENCE_MAX_PIXELS (refused by the configured limit)."""
    return {"pillow": png_bomb(13_500), "configured": png_bomb(10_000)}


@pytest.fixture
def decoded(monkeypatch) -> list[int]:
    """Counts the images Pillow starts decoding (ImageFile.load): a refused bomb must never get there."""
    calls: list[int] = []
    original = ImageFile.ImageFile.load

    def counting(image):
        calls.append(image.size[0] * image.size[1])
        return original(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting)
    return calls


def file(client, **body) -> dict:
    payload = {"category": "misconduct", "content": "执法人员未出示证件即要求检查。", "agency": "MKT", **body}
    response = client.post(COMPLAINTS, json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def upload(client, filed: dict, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return client.post(
        f"{COMPLAINTS}/{filed['tracking_no']}/evidence",
        data={"evidence": (io.BytesIO(data), name, content_type)},
        headers={QUERY_CODE_HEADER: filed["query_code"]},
        content_type="multipart/form-data",
    )


def stored(db_session, tracking_no: str) -> list[ComplaintEvidence]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(ComplaintEvidence).join(Complaint).where(Complaint.tracking_no == tracking_no).order_by("id")
        )
    )


def handler(app, runner, username: str, agency: str, role: str = "handler") -> AdminBrowser:
    if role == "handler":
        create_user(runner, username, agency=agency)
    else:
        create_user(runner, username, role, region="350500")
    person = AdminBrowser(app.test_client())
    assert person.login(username).status_code == 303
    return person


@pytest.mark.parametrize("program", [elf_program, pe_program], ids=["elf", "pe"])
def test_a_program_named_photo_jpg_is_refused_by_its_content(client, city, db_session, program):
    filed = file(client)
    refused = upload(client, filed, program(), name="photo.jpg", content_type="image/jpeg")
    body = refused.get_json()
    assert refused.status_code == 422
    assert set(body) == {"code", "status", "message", "errors"} and "evidence" in body["errors"]
    assert stored(db_session, filed["tracking_no"]) == []


def test_a_file_over_the_configured_size_is_413_naming_the_field(client, city, db_session, app, monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_EVIDENCE_MAX_BYTES", 64 * 1024)
    filed = file(client)
    big = plain_image("PNG", size=(600, 600))
    big += bytes(64 * 1024 + 1 - len(big)) if len(big) <= 64 * 1024 else b""
    refused = upload(client, filed, big, name="big.png", content_type="image/png")
    assert refused.status_code == 413
    assert "evidence" in refused.get_json()["errors"]
    assert stored(db_session, filed["tracking_no"]) == []


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("bomb", ["pillow", "configured"])
def test_a_png_bomb_is_refused_before_a_pixel_is_decoded(client, city, db_session, bombs, bomb, decoded):
    filed = file(client)
    refused = upload(client, filed, bombs[bomb], name="bomb.png", content_type="image/png")
    assert refused.status_code == 422
    assert "evidence" in refused.get_json()["errors"]
    assert decoded == []
    assert stored(db_session, filed["tracking_no"]) == []


@pytest.mark.parametrize("image_format", IMAGE_FORMATS)
def test_an_image_is_kept_upright_without_its_exif_and_location(client, city, db_session, image_format):
    sent = photo_with_location(image_format)
    with Image.open(io.BytesIO(sent)) as original:
        assert original.getexif().get_ifd(GPS_IFD)  # the test file does carry a location
    filed = file(client)
    response = upload(client, filed, sent, name="IMG_0001.jpg", content_type="application/octet-stream")
    assert response.status_code == 201, response.get_json()
    [kept] = stored(db_session, filed["tracking_no"])
    with Image.open(io.BytesIO(kept.data)) as image:
        assert image.format == image_format
        assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
        # Orientation 6 applied to the pixels: the landscape photo is now portrait, its red left half on top.
        assert image.size == (20, 40)
        rgb = image.convert("RGB")
        top, bottom = rgb.getpixel((10, 5)), rgb.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60
    assert b"GPS" not in kept.data and b"Exif" not in kept.data
    assert response.get_json() == {
        "sha256": hashlib.sha256(kept.data).hexdigest(),
        "media_type": f"image/{image_format.lower()}",
        "size": len(kept.data),
    }


def test_a_phones_mpo_photo_is_kept_as_its_first_picture_in_jpeg(client, city, db_session):
    """Many phones write MPO: a JPEG followed by more pictures (a depth map, say)."""
    out = io.BytesIO()
    Image.new("RGB", (30, 20), "red").save(
        out, format="MPO", save_all=True, append_images=[Image.new("RGB", (30, 20), "blue")]
    )
    filed = file(client)
    assert upload(client, filed, out.getvalue()).status_code == 201
    [kept] = stored(db_session, filed["tracking_no"])
    with Image.open(io.BytesIO(kept.data)) as image:
        assert (image.format, kept.media_type, getattr(image, "n_frames", 1)) == ("JPEG", "image/jpeg", 1)
        assert image.convert("RGB").getpixel((15, 10))[0] > 200


def test_a_pdf_is_accepted_as_sent_with_its_sha256(client, city, db_session):
    filed = file(client)
    document = pdf()
    response = upload(client, filed, document, name="notice.bin", content_type="text/plain")
    assert response.status_code == 201
    [kept] = stored(db_session, filed["tracking_no"])
    assert (kept.media_type, kept.data) == ("application/pdf", document)
    assert kept.sha256 == hashlib.sha256(document).hexdigest() == response.get_json()["sha256"]
    truncated = upload(client, filed, document[: len(document) // 2], name="notice.pdf")
    assert truncated.status_code == 422 and "evidence" in truncated.get_json()["errors"]


def test_the_count_is_limited_the_code_is_checked_and_a_closed_complaint_takes_no_more(
    client, city, db_session, app, monkeypatch
):
    monkeypatch.setitem(app.config, "COMPLAINT_EVIDENCE_MAX_FILES", 2)
    filed = file(client)
    assert [upload(client, filed, plain_image()).status_code for _ in range(2)] == [201, 201]
    third = upload(client, filed, plain_image())
    assert third.status_code == 422 and "evidence" in third.get_json()["errors"]
    wrong = upload(client, {**filed, "query_code": "WRONGCODE"}, plain_image())
    assert wrong.status_code == 404
    missing = client.post(
        f"{COMPLAINTS}/{filed['tracking_no']}/evidence",
        data={},
        headers={QUERY_CODE_HEADER: filed["query_code"]},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and "evidence" in str(missing.get_json()["errors"])
    complaint = db_session.scalar(select(Complaint).where(Complaint.tracking_no == filed["tracking_no"]))
    complaint.status = "closed"
    db_session.commit()
    monkeypatch.setitem(app.config, "COMPLAINT_EVIDENCE_MAX_FILES", 5)
    assert upload(client, filed, plain_image()).status_code == 409
    assert len(stored(db_session, filed["tracking_no"])) == 2


def test_the_form_files_a_complaint_with_evidence_and_refuses_a_program(client, city, db_session):
    page = client.get(FORM).get_data(as_text=True)
    form = {
        "form_token": form_token(page),
        "category": "misconduct",
        "content": "执法人员拍照取证时未出示证件。",
        "agency": "MKT",
    }
    refused = client.post(
        FORM,
        data={**form, "evidence": [(io.BytesIO(elf_program()), "photo.jpg", "image/jpeg")]},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert "证据材料：" in refused.get_data(as_text=True)
    assert db_session.scalar(select(Complaint).where(Complaint.content == form["content"])) is None
    photo, document = photo_with_location(), pdf()
    filed = client.post(
        FORM,
        data={**form, "evidence": [(io.BytesIO(photo), "a.jpg", "image/jpeg"), (io.BytesIO(document), "b.pdf")]},
        content_type="multipart/form-data",
    )
    assert filed.status_code == 200, filed.get_data(as_text=True)
    complaint = db_session.scalar(select(Complaint).where(Complaint.content == form["content"]))
    kept = stored(db_session, complaint.tracking_no)
    assert [item.media_type for item in kept] == ["image/jpeg", "application/pdf"]
    assert all(item.sha256 == hashlib.sha256(item.data).hexdigest() for item in kept)


def test_only_the_agencys_handlers_download_evidence_and_each_download_is_audited(
    app, client, runner, city, db_session, frozen_clock
):
    filed = file(client)
    assert upload(client, filed, pdf()).status_code == 201
    [kept] = stored(db_session, filed["tracking_no"])
    page_path = f"/admin/complaints/{filed['tracking_no']}"
    download = f"{page_path}/evidence/{kept.id}"

    zhang = handler(app, runner, "zhang", "MKT")
    page = zhang.page(page_path)
    assert download in page and kept.sha256 in page
    got = zhang.get(download)
    assert got.status_code == 200 and got.data == kept.data
    assert hashlib.sha256(got.data).hexdigest() == kept.sha256
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert got.headers["Cache-Control"] == "no-store"
    reads = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.evidence_read")).all()
    assert [(entry.actor, entry.target_id, entry.detail["sha256"]) for entry in reads] == [
        ("admin:zhang", filed["tracking_no"], kept.sha256)
    ]

    li = handler(app, runner, "li", "ENV")  # another agency's handler: the complaint is not even there
    assert li.get(download).status_code == 404
    assert li.get(page_path).status_code == 404
    wang = handler(app, runner, "wang", "SFJ", role="supervisor")  # sees the complaint, not the evidence
    assert wang.get(download).status_code == 403
    assert download not in wang.page(page_path)
    assert zhang.get(f"{page_path}/evidence/{kept.id + 1000}").status_code == 404
    assert zhang.get(f"{page_path}/evidence/{10**20}").status_code == 404
    db_session.expire_all()
    reads = db_session.scalars(select(AuditEntry).where(AuditEntry.action == "complaint.evidence_read")).all()
    assert len(reads) == 1  # the refused attempts read nothing


def test_evidence_appears_on_no_public_page_or_api(app, client, city, db_session):
    filed = file(client)
    assert upload(client, filed, photo_with_location()).status_code == 201
    [kept] = stored(db_session, filed["tracking_no"])
    api = read_complaint(client, filed["tracking_no"], filed["query_code"])
    page = track(client, filed["tracking_no"], filed["query_code"])
    assert api.status_code == page.status_code == 200
    for text in (api.get_data(as_text=True), page.get_data(as_text=True)):
        assert kept.sha256 not in text and "evidence" not in text and "证据" not in text
    public_rules = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "evidence" in rule.rule and not rule.rule.startswith("/admin/") and "GET" in rule.methods
    ]
    assert public_rules == []
    spec = client.get("/api/openapi.json").get_json()["paths"]
    assert [path for path in spec if "evidence" in path] == ["/api/v1/complaints/{tracking_no}/evidence"]
    assert set(spec["/api/v1/complaints/{tracking_no}/evidence"]) - {"parameters"} == {"post"}


def test_a_form_whose_files_exceed_the_body_limit_is_413_with_the_form_again(
    client, city, db_session, app, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 32 * 1024)
    token = form_token(client.get(FORM).get_data(as_text=True))
    form = {"form_token": token, "category": "misconduct", "content": "执法人员未出示证件即要求检查。", "agency": "MKT"}
    too_much = client.post(
        FORM,
        data={**form, "evidence": [(io.BytesIO(pdf() + bytes(40 * 1024)), "big.pdf")]},
        content_type="multipart/form-data",
    )
    html = too_much.get_data(as_text=True)
    assert too_much.status_code == 413
    assert "证据材料：提交的内容过大" in html and 'name="form_token"' in html
    assert db_session.scalar(select(Complaint)) is None
