import marshmallow as ma
from flask import Blueprint, Response, redirect, render_template, request, url_for

from backend.disclosures import services as disclosures
from backend.disclosures.models import DETAIL_LABELS, LABELS
from backend.disclosures.schemas import DisclosureSearchArgsSchema
from backend.errors import Gone, NotFound, RateLimited
from backend.officers import services as officers
from backend.officers.routes import limit_verification
from backend.timezone import CHINA
from search_index.interfaces import SearchUnavailable

blp = Blueprint("pages", __name__)


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
    except SearchUnavailable:
        return render_template("search.html", args=args, result=None, labels=LABELS, unavailable=True), 503
    return render_template("search.html", args=args, result=result, labels=LABELS, unavailable=False)


@blp.get("/d/<string:disclosure_id>")
def disclosure_page(disclosure_id: str):
    try:
        item = disclosures.public_view(disclosures.get_public(disclosure_id))
    except Gone as gone:
        return render_template("removed.html", notice=gone.extra, message=gone.message), 410
    except NotFound:
        return render_template("not_found.html"), 404
    return render_template("disclosure.html", item=item, labels=LABELS, detail_labels=DETAIL_LABELS)


@blp.get("/v/<path:token>")
def verify_page(token: str):
    """What a phone camera opens from a badge QR: at a glance, may this officer act right now?"""
    try:
        limit_verification()
    except RateLimited as limited:
        return render_template("verify_limited.html"), 429, limited.headers
    verification = officers.verify(token)
    response = Response(
        render_template(
            "verify.html",
            v=verification,
            token=token,
            checked_at=verification.checked_at.astimezone(CHINA),
            receipt=officers.scan_receipt(verification),
        )
    )
    # A verdict is about this moment: never serve it from a cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/v/<path:token>/photo")
def verify_photo(token: str):
    try:
        photo = officers.photo_for_token(token)
    except NotFound:
        return Response(status=404)
    response = Response(photo.data, mimetype=photo.media_type)
    response.headers["Cache-Control"] = "private, max-age=60"
    return response
