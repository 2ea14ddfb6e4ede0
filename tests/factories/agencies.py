import datetime as dt

import factory
from factory.alchemy import SQLAlchemyModelFactory

from backend.agencies.models import Agency
from backend.extensions import db


class AgencyFactory(SQLAlchemyModelFactory):
    class Meta:
        model = Agency
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"

    code = factory.Sequence(lambda n: f"11350500TEST{n:06d}")
    name = factory.Sequence(lambda n: f"泉州市测试执法局{n}")
    level = "city"
    region_code = "350500"
    address = "泉州市丰泽区东海街道"
    phone = "0595-22000000"
    complaint_phone = "12345"
    supervises = False
    remedy_channels = factory.LazyFunction(lambda: {"reconsideration": ["泉州市人民政府"], "litigation": []})
    created_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))
    updated_at = factory.LazyAttribute(lambda o: o.created_at)
