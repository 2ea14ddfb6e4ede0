"""Query strings and forms of the admin page: what is invalid in a query is dropped, in a form refused."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from backend.accounts.models import AdminRole
from backend.cases.models import CHECKLIST, ReviewOutcome
from backend.complaints.models import Category, Status
from backend.disclosures.models import APPROVABLE_TYPES
from backend.supervision.services import CHANGE_EVENTS


class FormSchema(ma.Schema):
    """Browsers send every field as text, empty ones too: trim them, and an empty field is a missing one."""

    verbatim: tuple[str, ...] = ()  # fields taken exactly as typed (a password's spaces count)

    class Meta:
        unknown = ma.EXCLUDE  # csrf_token and the submit button

    @ma.pre_load
    def drop_blanks(self, data: Any, **_kwargs: Any) -> dict[str, str]:
        return {
            key: value if key in self.verbatim else value.strip()
            for key, value in data.items()
            if isinstance(value, str) and value.strip()
        }


TEXT = ma.validate.Length(min=2, max=2000, error="须为 2 至 2000 个字")
REQUIRED = {"required": "不能为空"}


class PageArgs(FormSchema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1000))


class QueueArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(list(Status)))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    category = ma.fields.String(validate=ma.validate.OneOf(list(Category)))
    overdue = ma.fields.Boolean(truthy={"1"}, falsy={"0"})
    escalated = ma.fields.Boolean(truthy={"1"}, falsy={"0"})


class PeriodArgs(FormSchema):
    date_from = ma.fields.Date(data_key="from")
    date_to = ma.fields.Date(data_key="to")


class ChangesArgs(PageArgs, PeriodArgs):
    event = ma.fields.String(validate=ma.validate.OneOf(CHANGE_EVENTS))
    agency = ma.fields.String(validate=ma.validate.Length(max=40))


class AuditArgs(PageArgs, PeriodArgs):
    actor = ma.fields.String(validate=ma.validate.Length(max=128))
    action = ma.fields.String(validate=ma.validate.Length(max=64))
    target_type = ma.fields.String(validate=ma.validate.Length(max=32))
    target_id = ma.fields.String(validate=ma.validate.Length(max=128))


class CaseListArgs(PageArgs, PeriodArgs):
    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    case_no = ma.fields.String(validate=ma.validate.Length(max=64))


class LoginForm(FormSchema):
    verbatim = ("password",)
    username = ma.fields.String(load_default="", validate=ma.validate.Length(max=64))
    password = ma.fields.String(load_default="", validate=ma.validate.Length(max=256))
    next = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500))


class OtpForm(FormSchema):
    otp = ma.fields.String(load_default="", validate=ma.validate.Length(max=32))


class NoFields(FormSchema):
    pass


class PasswordForm(FormSchema):
    """One's own change of password: the current one, the new one twice (passwords taken as typed)."""

    verbatim = ("current_password", "new_password", "confirm_password")
    current_password = ma.fields.String(load_default="", validate=ma.validate.Length(max=256))
    new_password = ma.fields.String(load_default="", validate=ma.validate.Length(max=256))
    confirm_password = ma.fields.String(load_default="", validate=ma.validate.Length(max=256))


class AccountForm(FormSchema):
    """A new admin account, as the system administrator's form gives it (the password is a temporary one)."""

    username = ma.fields.String(
        required=True, validate=ma.validate.Regexp(r"^[A-Za-z0-9_.-]{2,64}$", error="须为 2 至 64 个字母、数字或 _.-")
    )
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(list(AdminRole), error="须选择角色"))
    agency = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40))
    region = ma.fields.String(load_default=None, validate=ma.validate.Regexp(r"^\d{6}$", error="须为 6 位行政区划代码"))
    badge = ma.fields.String(load_default=None, validate=ma.validate.Length(max=32))


class UsernameForm(FormSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(max=64), error_messages=REQUIRED)


class ReasonForm(FormSchema):
    reason = ma.fields.String(required=True, validate=TEXT, error_messages=REQUIRED)


class TextForm(FormSchema):
    text = ma.fields.String(required=True, validate=TEXT, error_messages=REQUIRED)


class SummaryForm(FormSchema):
    summary = ma.fields.String(load_default=None, validate=TEXT)


class AssignForm(FormSchema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(max=64), error_messages=REQUIRED)


class RequirementForm(FormSchema):
    agency = ma.fields.String(required=True, validate=ma.validate.Length(max=40), error_messages=REQUIRED)
    type = ma.fields.String(
        required=True, validate=ma.validate.OneOf(APPROVABLE_TYPES, error="须选择清单类别"), error_messages=REQUIRED
    )
    approver_agency = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40))


class NegativeListArgs(PageArgs, PeriodArgs):
    current = ma.fields.Boolean(truthy={"1"}, falsy={"0"})
    agency = ma.fields.String(validate=ma.validate.Length(max=40))


class PublisherForm(FormSchema):
    agency = ma.fields.String(required=True, validate=ma.validate.Length(max=40), error_messages=REQUIRED)


REASON_PREFIX = "reason_"
# One text field per checklist item, named reason_<item> (a class made from the checklist, so the form
# follows it when an item is added).
_ChecklistReasons = type(
    "_ChecklistReasons",
    (FormSchema,),
    {
        REASON_PREFIX + key: ma.fields.String(
            required=True,
            validate=ma.validate.Length(max=2000, error="不能超过 2000 个字"),
            error_messages={"required": "须填写审核理由"},
        )
        for key in CHECKLIST
    },
)


class OpinionForm(_ChecklistReasons):
    """The reviewer's opinion: a reason per checklist item (``reason_<item>``), an outcome, a comment.

    Loaded into the body ``reviews.give_opinion`` takes, the same as the review API's."""

    outcome = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(list(ReviewOutcome), error="须选择审核结论"),
        error_messages={"required": "须选择"},
    )
    comment = ma.fields.String(load_default=None, validate=ma.validate.Length(max=5000, error="不能超过 5000 个字"))

    @ma.post_load
    def gather_reasons(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        reasons = {key: data.pop(REASON_PREFIX + key) for key in CHECKLIST}
        return {**data, "reasons": reasons}


class EvaluationForm(FormSchema):
    """A 案卷评查 round as the supervisor's form gives it (the default scoring sheet; the API takes others)."""

    agency = ma.fields.String(validate=ma.validate.Length(max=40))
    region = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$", error="须为 6 位行政区划代码"))
    date_from = ma.fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式有误"})
    date_to = ma.fields.Date(required=True, error_messages={**REQUIRED, "invalid": "日期格式有误"})
    sample_size = ma.fields.Integer(validate=ma.validate.Range(min=1, max=10000, error="须为 1 至 10000"))
    sample_percent = ma.fields.Integer(validate=ma.validate.Range(min=1, max=100, error="须为 1 至 100"))
    evaluators = ma.fields.String(required=True, validate=ma.validate.Length(max=2000), error_messages=REQUIRED)

    @ma.post_load
    def split_evaluators(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        names = data["evaluators"].replace("，", ",").replace("、", ",").replace(",", " ").split()
        return {**data, "evaluators": names}


FIELD_LABELS = {
    "reason": "理由",
    "text": "内容",
    "summary": "办结说明",
    "username": "办理人员",
    "agency": "执法主体编码",
    "type": "清单类别",
    "approver_agency": "审核机关编码",
    "outcome": "审核结论",
    "comment": "审核意见",
    "region": "行政区划代码",
    "date_from": "结案起始日期",
    "date_to": "结案截止日期",
    "sample_size": "抽取件数",
    "sample_percent": "抽取比例",
    "evaluators": "评查人员",
    "role": "角色",
    "badge": "证件号",
    **{REASON_PREFIX + key: f"「{label}」" for key, label in CHECKLIST.items()},
}


def load_args(schema: ma.Schema, args: Any) -> dict[str, Any]:
    """A page's query: keep what is valid, forget the rest (a hand-edited URL still shows a page)."""
    try:
        return schema.load(args.to_dict())
    except ma.ValidationError as error:
        return schema.load({key: value for key, value in args.to_dict().items() if key not in error.messages})
