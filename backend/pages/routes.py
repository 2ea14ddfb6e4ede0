import dataclasses
from urllib.parse import urlsplit

import marshmallow as ma
from flask import Blueprint, Response, current_app, has_request_context, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from backend.cases.models import RECORDING_LABELS, STEP_LABELS
from backend.complaints import services as complaint_services
from backend.complaints.models import CATEGORY_LABELS
from backend.complaints.schemas import ComplaintCreateSchema
from backend.disclosures import reading as disclosures
from backend.disclosures.models import DETAIL_LABELS, EXEMPTION_MEASURES, LABELS
from backend.disclosures.schemas import DisclosureSearchArgsSchema, PublicDisclosureSchema, SearchPageItemSchema
from backend.errors import Gone, Invalid, NotFound, RateLimited
from backend.extensions.database import read_only_gets
from backend.input_guard import Refused
from backend.officers import services as officers
from backend.officers.limits import limit_verification
from backend.pages.display import LARGE, TEXT_SIZE_COOKIE, TEXT_SIZE_MAX_AGE, large_text
from backend.pages.verify_page import VERIFY_PAGE_HEADERS, verify_page_html
from search_index.interfaces import SearchUnavailable

blp = read_only_gets(Blueprint("pages", __name__))  # its GETs only read; the complaint form POSTs
# The pages show what the public API shows (dates and times as it writes them).
PUBLIC_DISCLOSURE = PublicDisclosureSchema()
SEARCH_PAGE_ITEMS = SearchPageItemSchema(many=True)


@blp.errorhandler(Refused)
def refused_page(refused: Refused):
    """An address or form the input guard refused, answered as a page like the pages' other errors."""
    return render_template("refused.html", message=refused.message), refused.status


@blp.app_context_processor
def page_chrome() -> dict:
    """What base.html's header and footer show: the reader's text size and the site's 备案 details."""
    config = current_app.config
    site = {key: config[f"SITE_{key.upper()}"] for key in ("sponsor", "id_code", "icp", "psb_record", "contact")}
    return {"large_text": has_request_context() and large_text(request.environ), "site": site}


@blp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links."""
    return current_app.send_static_file("favicon.ico")


@blp.post("/display/text-size")
def text_size():
    """大字模式 on or off (pages/display.py), then back to the page the button was on (same site only)."""
    back = urlsplit(request.referrer or "")
    to = f"{back.path}?{back.query}" if back.query else back.path
    # A path of this site only: "//host/…" or "/\\host/…" would send the browser elsewhere.
    ours = back.netloc == request.host and to.startswith("/") and not to.startswith(("//", "/\\"))
    response = redirect(to if ours else url_for(".home"), 303)
    if request.form.get("size") == LARGE:
        response.set_cookie(
            TEXT_SIZE_COOKIE, LARGE, max_age=TEXT_SIZE_MAX_AGE, secure=request.is_secure, httponly=True, samesite="Lax"
        )
    else:
        response.delete_cookie(TEXT_SIZE_COOKIE, samesite="Lax", httponly=True)
    return response


@blp.get("/")
def home():
    return redirect(url_for("pages.search_page"))


@blp.get("/s")
def search_page():
    """公示信息检索: the page chat replies and shares link to."""
    try:
        args = DisclosureSearchArgsSchema().load(request.args.to_dict())
    except ma.ValidationError:
        args = DisclosureSearchArgsSchema().load({"q": request.args.get("q", "")[:100]})
    try:
        result = disclosures.search_public(**args)
        result = dataclasses.replace(result, items=SEARCH_PAGE_ITEMS.dump(result.items))
    except SearchUnavailable:
        return render_template("search.html", args=args, result=None, labels=LABELS, unavailable=True), 503
    return render_template("search.html", args=args, result=result, labels=LABELS, unavailable=False)


@blp.get("/d/<string:disclosure_id>")
def disclosure_page(disclosure_id: str):
    try:
        item = PUBLIC_DISCLOSURE.dump(disclosures.get_public(disclosure_id))
    except Gone as gone:
        return render_template("removed.html", notice=gone.extra, message=gone.message), 410
    except NotFound:
        return render_template("not_found.html"), 404
    return render_template(
        "disclosure.html",
        item=item,
        labels=LABELS,
        detail_labels=DETAIL_LABELS,
        step_labels=STEP_LABELS,
        recording_labels=RECORDING_LABELS,
        measure_labels=EXEMPTION_MEASURES,
    )


@blp.get("/v/<path:token>")
def verify_page(token: str):
    """What a phone camera opens from a badge QR: at a glance, may this officer act right now?"""
    try:
        limit_verification(request.remote_addr)
    except RateLimited as limited:
        return limited_page(limited)
    verification = officers.verify(token)
    html = verify_page_html(verification, token, officers.scan_receipt(verification), request.environ)
    return Response(html, headers=VERIFY_PAGE_HEADERS)


def limited_page(limited: RateLimited):
    return render_template("verify_limited.html"), 429, limited.headers


@blp.get("/v/<path:token>/photo")
def verify_photo(token: str):
    try:
        photo = officers.photo_for_token(token)
    except NotFound:
        return Response(status=404)
    response = Response(photo.data, mimetype=photo.media_type)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response


# -- complaints for citizens on the web ----------------------------------------------------------
def _form_token() -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="complaint-form").dumps("form")


def _form_token_ok(token: str) -> bool:
    try:
        URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="complaint-form").loads(token, max_age=3600)
    except BadSignature:
        return False
    return True


@blp.route("/complaints/new", methods=["GET", "POST"])
def complaint_form():
    """The web form (also what the badge page's "report this encounter" link opens)."""
    values = {
        key: request.values.get(key, "")
        for key in ("category", "content", "badge", "agency", "disclosure", "receipt", "place", "contact_phone")
    }
    errors: dict = {}
    if request.method == "POST":
        if not _form_token_ok(request.form.get("form_token", "")):
            errors = {"form": ["页面已过期，请重新提交"]}
        else:
            data = {
                "category": values["category"],
                "content": values["content"],
                "badge_no": values["badge"] or None,
                "agency": values["agency"] or None,
                "disclosure_id": values["disclosure"] or None,
                "receipt": values["receipt"] or None,
                "place": values["place"] or None,
                "contact_phone": values["contact_phone"] or None,
            }
            try:
                complaint_services.limit_submissions(request.remote_addr)
                filed = complaint_services.submit(ComplaintCreateSchema().load(data), channel="web")
            except ma.ValidationError as error:
                errors = error.normalized_messages()
            except (RateLimited, Invalid) as error:
                errors = {"form": [error.message]}
            else:
                return render_template("complaint_filed.html", filed=filed)
    status = 422 if errors else 200
    return render_template(
        "complaint_form.html", values=values, errors=errors, categories=CATEGORY_LABELS, form_token=_form_token()
    ), status


@blp.route("/complaints/track", methods=["GET", "POST"])
def complaint_track():
    """The query code is posted, never put in the address (access logs, Referer): a GET shows the form,
    with the tracking number a link may carry; a code in the address is refused, not used."""
    tracking_no = request.values.get("tracking_no", "").strip()
    view, missing, errors, status = None, False, {}, 200
    if "code" in request.args:
        errors, status = {"form": ["查询码不能放在网址中，请在下方输入后查询"]}, 400
    elif request.method == "POST":
        code = request.form.get("code", "").strip()
        if not _form_token_ok(request.form.get("form_token", "")):
            errors, status = {"form": ["页面已过期，请重新提交"]}, 422
        elif tracking_no and code:
            try:
                view = complaint_services.citizen_view(complaint_services.for_citizen(tracking_no, code))
            except NotFound:
                missing, status = True, 404
        else:
            errors, status = {"form": ["请填写受理编号和查询码"]}, 422
    return render_template(
        "complaint_track.html",
        view=view,
        missing=missing,
        errors=errors,
        tracking_no=tracking_no,
        form_token=_form_token(),
    ), status
