import dataclasses
from urllib.parse import urlsplit

import marshmallow as ma
from flask import Blueprint, Response, current_app, has_request_context, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from backend.agencies.models import LEVEL_LABELS
from backend.agencies.services import AGENCY_CODE
from backend.cases.models import RECORDING_LABELS, STEP_LABELS
from backend.complaints import evidence as complaint_evidence
from backend.complaints import services as complaint_services
from backend.complaints.models import CATEGORY_LABELS
from backend.complaints.schemas import ComplaintCreateSchema
from backend.disclosures import reading as disclosures
from backend.disclosures.facets import count_text
from backend.disclosures.models import DETAIL_LABELS, EXEMPTION_MEASURES, LABELS
from backend.disclosures.schemas import PublicDisclosureSchema, SearchPageItemSchema
from backend.divisions import full_region_name
from backend.errors import Gone, Invalid, NotFound, PayloadTooLarge, RateLimited
from backend.extensions.database import read_only_gets
from backend.extensions.smorest import Page
from backend.input_guard import Refused
from backend.officers import services as officers
from backend.officers.limits import limit_verification
from backend.officers.models import CREDENTIAL_LABELS
from backend.officers.schemas import BadgeLookupArgsSchema, RosterArgsSchema, RosterEntrySchema
from backend.pages import search_filters
from backend.pages.display import LARGE, TEXT_SIZE_COOKIE, TEXT_SIZE_MAX_AGE, large_text
from backend.pages.verify_page import VERIFY_PAGE_HEADERS, lookup_page_html, verify_page_html
from search_index.interfaces import SearchUnavailable

blp = read_only_gets(Blueprint("pages", __name__))  # its GETs only read; the complaint form POSTs
# The pages show what the public API shows (dates and times as it writes them).
PUBLIC_DISCLOSURE = PublicDisclosureSchema()
SEARCH_PAGE_ITEMS = SearchPageItemSchema(many=True)
ROSTER_ENTRIES = RosterEntrySchema(many=True)


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
    try:
        back = urlsplit(request.referrer or "")
    except ValueError:  # a Referer no browser sends ("http://[abc"): back to the home page
        back = urlsplit("")
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
    """公示信息检索: the page chat replies and shares link to; a GET form whose links keep its filters."""
    args = search_filters.search_args(request.args)
    try:
        result = disclosures.search_public(**args)
        result = dataclasses.replace(result, items=SEARCH_PAGE_ITEMS.dump(result.items))
    except SearchUnavailable:
        return _search_html(args, None), 503, {"Retry-After": "5"}  # as the API's answer says (app.py)
    return _search_html(args, result)


def _search_html(args: dict, result: Page | None) -> str:
    choices = search_filters.options(args, result.facets if result else {}, result.facets_exact if result else True)
    return render_template(
        "search.html",
        args=args,
        result=result,
        unavailable=result is None,
        choices=choices,
        chosen=search_filters.chosen(args, choices),
        filters=search_filters.FILTERS,
        dates=search_filters.DATES,
        sorts=search_filters.SORTS,
        link=search_filters.link_params,
        count_text=count_text,
    )


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


@blp.get("/v")
def badge_lookup_page():
    """A badge number typed in, for a QR too damaged to scan: the form, then the verdict a scan would give."""
    badge_no = request.args.get("badge_no", "").strip()
    agency = request.args.get("agency", "").strip()
    if not badge_no:
        return render_template("badge_lookup.html", badge_no="", errors={}, choices=[])
    try:
        args = BadgeLookupArgsSchema().load({"badge_no": badge_no, **({"agency": agency} if agency else {})})
        limit_verification(request.remote_addr)
        verification = officers.lookup(args["badge_no"], args.get("agency"))
    except RateLimited as limited:
        return limited_page(limited)
    except officers.AmbiguousBadge as ambiguous:
        errors = {"agency": [ambiguous.message]}
        return render_template(
            "badge_lookup.html", badge_no=badge_no, errors=errors, choices=ambiguous.agencies
        ), ambiguous.status
    except (ma.ValidationError, Invalid):
        errors = {"badge_no": ["执法证号为 4-32 位字母、数字或“-”，请核对后重新输入"]}
        return render_template("badge_lookup.html", badge_no=badge_no, errors=errors, choices=[]), 422
    return Response(lookup_page_html(verification), headers=VERIFY_PAGE_HEADERS)


@blp.get("/a/<string:code>")
def agency_page(code: str):
    """An agency's page: who it is, how to reach it, its 事前公开 items, officers and recent decisions."""
    try:
        view = disclosures.agency_page(code) if AGENCY_CODE.fullmatch(code) else None
    except NotFound:
        view = None
    if view is None:
        return render_template("agency.html", agency=None), 404
    try:
        roster_args = RosterArgsSchema().load({key: request.args[key] for key in ("q", "page") if key in request.args})
    except ma.ValidationError:
        roster_args = {"q": request.args.get("q", "")[:50], "page": 1, "page_size": 20}
    status, headers = 200, {}
    try:
        roster = officers.roster(**roster_args, agency=view.code)
        roster = dataclasses.replace(roster, items=ROSTER_ENTRIES.dump(roster.items))
    except SearchUnavailable:
        # The roster is searched: the rest of the page still shows, and says when to come back for it.
        roster, status, headers = None, 503, {"Retry-After": "5"}
    return (
        render_template(
            "agency.html",
            agency=view,
            level=LEVEL_LABELS.get(view.level, ""),
            region=full_region_name(view.region_code),
            labels=LABELS,
            roster=roster,
            roster_args=roster_args,
            recent=SEARCH_PAGE_ITEMS.dump(disclosures.recent_post_phase(view.agency)),
            credential_labels=CREDENTIAL_LABELS,
        ),
        status,
        headers,
    )


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


FORM_FIELDS = (
    "category",
    "content",
    "badge",
    "agency",
    "disclosure",
    "receipt",
    "place",
    "occurred_at",
    "contact_phone",
)


@blp.route("/complaints/new", methods=["GET", "POST"])
def complaint_form():
    """The web form (also what the badge page's "report this encounter" link opens)."""
    errors: dict = {}
    status = 200
    try:
        values = {key: request.values.get(key, "") for key in FORM_FIELDS}
        # A file input left empty still sends a part, with no name and no bytes.
        files = [item.stream for item in request.files.getlist("evidence") if item.filename]
    except RequestEntityTooLarge:
        values, files = dict.fromkeys(FORM_FIELDS, ""), []
        limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        errors, status = {"evidence": [f"提交的内容过大：所有文件合计不超过 {limit} MB，请减少或压缩后重新提交"]}, 413
    if request.method == "POST" and not errors:
        if not _form_token_ok(request.form.get("form_token", "")):
            errors, status = {"form": ["页面已过期，请重新提交"]}, 422
        else:
            data = {
                "category": values["category"],
                "content": values["content"],
                "badge_no": values["badge"] or None,
                "agency": values["agency"] or None,
                "disclosure_id": values["disclosure"] or None,
                "receipt": values["receipt"] or None,
                "place": values["place"] or None,
                # A datetime-local input: no offset, read as Beijing time.
                "occurred_at": values["occurred_at"] or None,
                "contact_phone": values["contact_phone"] or None,
            }
            try:
                complaint_services.limit_submissions(request.remote_addr)
                loaded = ComplaintCreateSchema().load(data)
                evidence = complaint_evidence.prepare(files)
                filed = complaint_services.submit(loaded, channel="web", evidence=evidence)
            except ma.ValidationError as error:
                errors, status = error.normalized_messages(), 422
            except (RateLimited, Invalid, PayloadTooLarge) as error:
                field = complaint_evidence.FIELD if complaint_evidence.FIELD in (error.errors or {}) else "form"
                errors, status = {field: [error.message]}, error.status
            else:
                return render_template("complaint_filed.html", filed=filed)
    return render_template(
        "complaint_form.html",
        values=values,
        errors=errors,
        categories=CATEGORY_LABELS,
        form_token=_form_token(),
        evidence_limits={
            "bytes": current_app.config["COMPLAINT_EVIDENCE_MAX_BYTES"],
            "files": current_app.config["COMPLAINT_EVIDENCE_MAX_FILES"],
            "total": current_app.config["MAX_CONTENT_LENGTH"],
        },
        retention_days=current_app.config["COMPLAINT_CONTACT_RETENTION_DAYS"],
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
