import marshmallow as ma
from flask import Blueprint, redirect, render_template, request, url_for

from backend.disclosures import services as disclosures
from backend.disclosures.models import DETAIL_LABELS, LABELS
from backend.disclosures.schemas import DisclosureSearchArgsSchema
from backend.errors import NotFound
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
    except NotFound:
        return render_template("not_found.html"), 404
    return render_template("disclosure.html", item=item, labels=LABELS, detail_labels=DETAIL_LABELS)
