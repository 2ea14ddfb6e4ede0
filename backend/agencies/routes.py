from flask.views import MethodView

from backend.disclosures import reading as disclosures
from backend.extensions.smorest import Blueprint

from . import services
from .schemas import AgencyDetailSchema, AgencyPageSchema, AgencySearchArgsSchema

blp = Blueprint("agencies", __name__, url_prefix="/api/v1/agencies", description="执法主体 (enforcement agencies)")


@blp.route("")
class Agencies(MethodView):
    @blp.arguments(AgencySearchArgsSchema, location="query")
    @blp.response(200, AgencyPageSchema)
    def get(self, args):
        """Search agencies by name, filtered by region"""
        return services.search_agencies(**args)


@blp.route("/<string:code>")
class AgencyByCode(MethodView):
    @blp.response(200, AgencyDetailSchema)
    @blp.alt_response(404, description="no agency with that code")
    def get(self, code):
        """One agency and its current 事前公开 items, grouped by type"""
        return disclosures.agency_page(code)
