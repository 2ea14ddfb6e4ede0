"""The admin page: log in, work the complaint queue, give legal-review opinions, read the supervision figures."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import marshmallow as ma
import segno
from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from backend.accounts import lifecycle as account_lifecycle
from backend.accounts import passwords, sessions, totp
from backend.accounts import services as accounts
from backend.accounts.models import AdminRole, AdminUser
from backend.audit import trail as audit_log
from backend.audit.schemas import EXPORT_LIMIT
from backend.audit.services import record, record_read
from backend.canonical import content_digest
from backend.cases import reviews
from backend.cases.models import CHECKLIST, STEP_LABELS, CaseReview
from backend.complaints import evidence as complaint_evidence
from backend.complaints import services as complaints
from backend.complaints.models import CATEGORY_LABELS, EVENT_LABELS, STATUS_LABELS, Complaint, Status
from backend.disclosures import approval, lifecycle, publishing
from backend.disclosures import reading as disclosure_reading
from backend.disclosures.models import (
    APPROVABLE_TYPES,
    APPROVER_AGENCY_TYPES,
    DETAIL_LABELS,
    NEGATIVE_LIST_FIGURES,
    PHASE_OF_TYPE,
    Category,
    flatten_text,
)
from backend.disclosures.models import LABELS as DISCLOSURE_LABELS
from backend.disclosures.reading import WITHDRAWAL_LABELS
from backend.disclosures.schemas import WithdrawSchema
from backend.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, RateLimited, Unauthorized
from backend.exchange import push
from backend.extensions import db
from backend.officers import badge_card
from backend.officers import services as officers
from backend.officers.models import CREDENTIAL_LABELS, CredentialStatus
from backend.officers.schemas import OfficerPutSchema, OfficerStatusSchema
from backend.supervision import case_reads, evaluation, negative_list
from backend.supervision import reviewers as reviewer_registry
from backend.supervision import services as supervision
from backend.timezone import today

from . import auth, csrf, entry_form, schemas

blp = Blueprint("admin_pages", __name__, url_prefix="/admin", static_folder="static", static_url_path="/static")

STATIC, LOGIN = "admin_pages.static", "admin_pages.login"
# The sign-in's second step: reached with a right password only (auth.awaiting_second_factor), not a session.
SECOND_FACTOR = {"admin_pages.login_otp", "admin_pages.login_enrol"}
HTTP_MESSAGES = {404: "页面不存在", 405: "不支持该请求方法", 413: "提交的内容过大", 500: "服务器内部错误，请稍后再试"}
QUEUE_PAGE_SIZE = 20
HOT_SPOT_DAYS = 30

ROLE_LABELS = {
    AdminRole.handler: "办理人员",
    AdminRole.supervisor: "监督人员",
    AdminRole.admin: "系统管理员",
    AdminRole.reviewer: "法制审核人员",
    AdminRole.observer: "监督员",
    AdminRole.publisher: "信息发布员",
    AdminRole.auditor: "审计管理员",
    AdminRole.security: "安全管理员",
}
# Who opens which page (the services check scope again). A reviewer works legal reviews only: the
# complaint and supervision pages are not theirs. Every page not named here is open to every role.
REVIEW_PAGES = {"admin_pages.reviews_queue", "admin_pages.review", "admin_pages.opinion"}
EVERY_ROLE = {
    LOGIN,
    STATIC,
    "admin_pages.logout",
    "admin_pages.home",
    "admin_pages.unknown_page",
    "admin_pages.letter",
    "admin_pages.account_otp",
    "admin_pages.account_password",
}
# While the password is temporary or expired (passwords.must_change) these are all a user may open.
PASSWORD_CHANGE_PAGES = {STATIC, "admin_pages.account_password", "admin_pages.logout"}
SUPERVISOR_PAGES = {
    "admin_pages.reviewers",
    "admin_pages.require_approval",
    "admin_pages.lift_approval",
    "admin_pages.cases",
    "admin_pages.case",
    "admin_pages.start_evaluation",
    "admin_pages.evaluation_round",
    "admin_pages.negative_list_page",
    "admin_pages.publish_negative_list",
}
# GETs the guard does not audit: the case file and the reviewer registry audit their reads themselves, in
# more detail; the home page only redirects and an unknown address shows nothing.
READS_NOT_AUDITED_HERE = {"admin_pages.case", "admin_pages.reviewers", "admin_pages.home", "admin_pages.unknown_page"}
# 案卷评查: an observer (监督员) opens these and nothing else; the service shows them only their assignments.
EVALUATION_PAGES = {"admin_pages.evaluations", "admin_pages.evaluation_case", "admin_pages.score_case"}
# The publisher's web entry form (an agency without a case system): a publisher opens these and nothing else,
# and no other role opens them (a page acts as the user's agency, which only a publisher is bound to).
PUBLISH_PAGES = {
    "admin_pages.publish_list",
    "admin_pages.publish_new",
    "admin_pages.publish_item",
    "admin_pages.publish_preview",
    "admin_pages.publish_confirm",
    "admin_pages.publish_withdraw",
    "admin_pages.officer_list",
    "admin_pages.officer_register",
    "admin_pages.officer_status",
    "admin_pages.officer_card",
    "admin_pages.officer_card_svg",
}
# Pages for the system administrator alone (they act on every region's exchange clients).
ADMIN_PAGES = {"admin_pages.push_page", "admin_pages.resume_push"}
EVALUATING_ROLES = (AdminRole.supervisor, AdminRole.admin, AdminRole.observer)
# The audit trail is the auditor's alone, and the auditor's only pages (三员分立: who is audited does not read it).
AUDIT_PAGES = {"admin_pages.audit_trail", "admin_pages.audit_export"}
# 三员分立: accounts are the system administrator's; sessions, second factors and the settings in force the
# security administrator's, whose only pages these are.
ACCOUNT_PAGES = {
    "admin_pages.accounts_page",
    "admin_pages.create_account",
    "admin_pages.disable_account",
    "admin_pages.enable_account",
    "admin_pages.reset_password",
}
SECURITY_PAGES = {
    "admin_pages.security_page",
    "admin_pages.revoke_session",
    "admin_pages.revoke_sessions",
    "admin_pages.reset_second_factor",
}
ROLE_REFUSALS = {
    "auditor": "审计管理员只能使用审计日志页面",
    "security_role": "安全管理员只能使用安全管理页面",
    "security": "仅安全管理员可管理会话和两步验证",
    "accounts": "仅系统管理员可管理账户",
    "audit": "仅审计管理员可查看审计日志",
    "reviewer": "法制审核人员只能使用法制审核页面",
    "observer": "监督员只能使用案卷评查页面",
    "evaluation": "仅监督人员和监督员可参与案卷评查",
    "review": "仅法制审核人员可审核案件",
    "supervisor": "仅监督人员和系统管理员可查看",
    "publisher": "信息发布员只能使用信息发布页面",
    "publishing": "仅信息发布员可使用信息发布页面",
    "admin": "仅系统管理员可查看",
}
CHANNEL_LABELS = {"web": "网站", "miniapp": "小程序", "official_account": "公众号", "12345": "12345热线"}
ROUTED_LABELS = {"officer": "按执法人员", "disclosure": "按公示决定", "agency": "按执法主体", "region": "按属地"}
MAJOR_BY_LABELS = {"flag": "承办机构标记", "hearing": "经听证", "catalogue": "列入审核目录"}
CHANGE_LABELS = {"correct": "更正", "withdraw": "撤下", "expire": "公示期满", "withhold": "停止公开"}
DISCLOSURE_STATUS_LABELS = {
    "pending": "待公开",
    "published": "已公开",
    "withheld": "不予公开",
    "withdrawn": "已撤下",
    "expired": "公示期满",
}

# action -> (service function, its form, what to tell the user when done)
ACTIONS: dict[str, tuple[Callable[..., None], type[ma.Schema], str]] = {
    "accept": (complaints.accept, schemas.NoFields, "已受理"),
    "reject": (complaints.reject, schemas.ReasonForm, "已决定不予受理"),
    "assign": (complaints.assign, schemas.AssignForm, "已分派"),
    "reply": (complaints.reply, schemas.TextForm, "已答复"),
    "close": (complaints.close, schemas.SummaryForm, "已办结"),
    "escalate": (complaints.escalate, schemas.ReasonForm, "已提请上级司法行政部门督办"),
    "note": (complaints.add_note, schemas.TextForm, "已添加内部备注"),
}
ACTIONS_BY_STATUS = {
    Status.submitted: ("accept", "reject", "assign", "escalate", "note"),
    Status.accepted: ("assign", "reply", "escalate", "note"),
    Status.replied: ("close", "note"),
    Status.closed: ("note",),
    Status.rejected: ("note",),
}


# -- every request ------------------------------------------------------------------------------
@blp.before_request
def guard() -> Response | None:
    """CSRF on every POST, then a logged-in, enabled user on every page but the login page."""
    if request.endpoint == STATIC:
        return None
    if request.method == "POST" and not csrf.valid(request.form.get(csrf.FIELD)):
        return csrf_refused()
    if request.endpoint == LOGIN or request.endpoint in SECOND_FACTOR:
        return None
    user = auth.logged_in_user()
    if user is None:
        wanted = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for(".login", next=wanted))
    g.admin = user
    if request.endpoint not in PASSWORD_CHANGE_PAGES and passwords.must_change(user):
        return redirect(url_for(".account_password"), 303 if request.method == "POST" else 302)
    refused = _refusal(user, request.endpoint)
    if refused:
        raise Forbidden(ROLE_REFUSALS[refused])
    if request.method == "GET" and request.endpoint not in READS_NOT_AUDITED_HERE:
        # Who opened which page, before it is served (supervisors, admins, observers: record_read decides).
        record_read(user, request.path, request.args.to_dict(flat=False), request.remote_addr)
    return None


def _refusal(user: AdminUser, endpoint: str | None) -> str | None:
    """Why ``user`` may not open the page at ``endpoint`` (a key of ROLE_REFUSALS), or None."""
    if endpoint in EVERY_ROLE:
        return None
    if user.role == AdminRole.reviewer:
        return None if endpoint in REVIEW_PAGES else "reviewer"
    if user.role == AdminRole.observer:
        return None if endpoint in EVALUATION_PAGES else "observer"
    if user.role == AdminRole.publisher:
        return None if endpoint in PUBLISH_PAGES else "publisher"
    if user.role == AdminRole.auditor:
        return None if endpoint in AUDIT_PAGES else "auditor"
    if user.role == AdminRole.security:
        return None if endpoint in SECURITY_PAGES else "security_role"
    if endpoint in AUDIT_PAGES:
        return "audit"
    if endpoint in SECURITY_PAGES:
        return "security"
    if endpoint in ACCOUNT_PAGES and user.role != AdminRole.admin:
        return "accounts"
    if endpoint in PUBLISH_PAGES:
        return "publishing"
    if endpoint in EVALUATION_PAGES and user.role not in EVALUATING_ROLES:
        return "evaluation"
    if endpoint in REVIEW_PAGES:
        return "review"
    if endpoint in SUPERVISOR_PAGES and user.role not in (AdminRole.supervisor, AdminRole.admin):
        return "supervisor"
    if endpoint in ADMIN_PAGES and user.role != AdminRole.admin:
        return "admin"
    return None


def _landing(user: AdminUser) -> str:
    if user.role == AdminRole.observer:
        return url_for(".evaluations")
    if user.role == AdminRole.publisher:
        return url_for(".publish_list")
    if user.role == AdminRole.auditor:
        return url_for(".audit_trail")
    if user.role == AdminRole.security:
        return url_for(".security_page")
    return url_for(".reviews_queue" if user.role == AdminRole.reviewer else ".queue")


@blp.after_request
def no_store(response: Response) -> Response:
    """Signed-in pages stay out of every cache (the security headers are backend.security_headers')."""
    if request.endpoint != STATIC:
        response.headers["Cache-Control"] = "no-store"
    return response


@blp.context_processor
def page_helpers() -> dict[str, Any]:
    return {
        "csrf_token": csrf.token,
        "actor": _actor,
        "role_labels": ROLE_LABELS,
        "status_labels": STATUS_LABELS,
        "category_labels": CATEGORY_LABELS,
        "reviewer_role": AdminRole.reviewer,
        "observer_role": AdminRole.observer,
        "publisher_role": AdminRole.publisher,
        "auditor_role": AdminRole.auditor,
        "security_role": AdminRole.security,
        "admin_role": AdminRole.admin,
        "evaluating_roles": EVALUATING_ROLES,
        "supervising_roles": (AdminRole.supervisor, AdminRole.admin),
    }


@blp.errorhandler(DomainError)
def domain_error(error: DomainError):
    return render_template("admin/error.html", status=error.status, message=error.message), error.status


@blp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    return render_template("admin/error.html", status=status, message=HTTP_MESSAGES.get(status, error.name)), status


def csrf_refused():
    message = "页面已过期或来源不明，操作未执行。请返回刷新页面后重试。"
    if current_app.config["SESSION_COOKIE_SECURE"] and not request.is_secure:
        message += "（管理页面须通过 HTTPS 访问）"
    return render_template("admin/error.html", status=403, message=message), 403


def _actor(actor: str) -> str:
    """admin:zhang -> zhang, citizen:web -> 群众（网站）, system:deadline -> 系统（超期自动升级）."""
    kind, _, who = actor.partition(":")
    if kind == "admin":
        return who
    if kind == "citizen":
        return f"群众（{CHANNEL_LABELS[who]}）" if who in CHANNEL_LABELS else "群众"
    if kind == "system":
        return "系统（超期自动升级）" if who == "deadline" else "系统"
    return actor


def _safe_next(target: str | None) -> str | None:
    """Only a path of this admin page: never another site (//host, /\\host) after a login."""
    if target and target.startswith("/admin/") and "//" not in target and "\\" not in target:
        return target
    return None


# -- login --------------------------------------------------------------------------------------
@blp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        user = auth.logged_in_user()
        if user is not None:
            return redirect(_landing(user))
        return render_template("admin/login.html", username="", next=_safe_next(request.args.get("next")))
    form = schemas.load_args(schemas.LoginForm(), request.form)
    username, password, wanted = form["username"], form["password"], _safe_next(form["next"])

    def again(message: str, status: int, headers: dict | None = None):
        page = render_template("admin/login.html", username=username, next=wanted, error=message)
        return page, status, headers or {}

    if not username or not password:
        return again("请输入用户名和密码", 400)
    try:
        user = accounts.authenticate_admin(username, password, request.remote_addr)
    except RateLimited as limited:
        seconds = int(limited.headers["Retry-After"])
        wait = f"{seconds} 秒" if seconds < 60 else f"{round(seconds / 60)} 分钟"
        return again(f"登录失败次数过多，请 {wait}后再试", 429, {"Retry-After": str(seconds)})
    except Unauthorized:
        return again("用户名或密码错误", 401)
    if totp.needs_code(user):
        auth.await_second_factor(user, wanted)
        return redirect(url_for(".login_otp" if totp.enrolled(user) else ".login_enrol"), 303)
    auth.log_in(user)
    return redirect(wanted or _landing(user), 303)


def _waiting_page(template: str, status: int = 200, headers: dict | None = None, **context: Any):
    return render_template(template, **context), status, headers or {}


@blp.route("/login/otp", methods=["GET", "POST"])
def login_otp():
    """The second step of signing in: the authenticator's code, or a recovery code."""
    waiting = auth.awaiting_second_factor()
    if waiting is None or not totp.enrolled(waiting[0]):
        return redirect(url_for(".login"), 303)
    user, wanted = waiting
    if request.method == "GET":
        return _waiting_page("admin/otp.html")
    code = schemas.load_args(schemas.OtpForm(), request.form)["otp"]
    try:
        totp.verify(user, code, request.remote_addr)
    except RateLimited as limited:
        seconds = limited.headers["Retry-After"]
        return _waiting_page(
            "admin/otp.html", 429, {"Retry-After": seconds}, error=f"尝试次数过多，请 {seconds} 秒后再试"
        )
    except Unauthorized:
        return _waiting_page("admin/otp.html", 401, error="验证码不正确或已使用")
    auth.log_in(user)
    return redirect(wanted or _landing(user), 303)


@blp.route("/login/enrol", methods=["GET", "POST"])
def login_enrol():
    """A right password of an account that must have a second factor and has none: enrol, then in."""
    waiting = auth.awaiting_second_factor()
    if waiting is None or totp.enrolled(waiting[0]):
        return redirect(url_for(".login"), 303)
    user, wanted = waiting
    return _enrol(user, url_for(".login_enrol"), signs_in=True, wanted=wanted)


@blp.route("/account/otp", methods=["GET", "POST"])
def account_otp():
    """Two-step verification of one's own account: its state, or enrolment when it has none."""
    user: AdminUser = g.admin
    if totp.enrolled(user):
        return render_template("admin/otp_enrol.html", enrolled=True, required=totp.required())
    return _enrol(user, url_for(".account_otp"), signs_in=False)


def _enrol(user: AdminUser, action: str, *, signs_in: bool, wanted: str | None = None):
    """The QR and secret to give an authenticator app, and the form for its first code; once that code is right,
    the recovery codes, shown this once, with the way on (signed in now, at sign-in)."""
    enrolment = totp.start_enrolment(user)
    page = {
        "action": action,
        "secret": enrolment.secret,
        "qr": segno.make(enrolment.uri, error="m").svg_inline(scale=5),
    }
    if request.method == "GET":
        return render_template("admin/otp_enrol.html", **page)
    code = schemas.load_args(schemas.OtpForm(), request.form)["otp"]
    try:
        codes = totp.confirm_enrolment(user, code, request.remote_addr)
    except RateLimited as limited:
        seconds = limited.headers["Retry-After"]
        return render_template("admin/otp_enrol.html", **page, error=f"尝试次数过多，请 {seconds} 秒后再试"), 429
    except Invalid:
        return render_template("admin/otp_enrol.html", **page, error="验证码不正确，请核对手机时间后重试"), 422
    if signs_in:
        auth.log_in(user)
    return render_template("admin/otp_recovery.html", codes=codes, next=wanted or _landing(user))


@blp.post("/logout")
def logout():
    user: AdminUser = g.admin
    record(f"admin:{user.username}", "admin.logout", "admin_user", user.username, ip=request.remote_addr)
    db.session.commit()
    auth.end_session()
    flash("已退出登录", "ok")
    return redirect(url_for(".login"), 303)


@blp.route("/account/password", methods=["GET", "POST"])
def account_password():
    """One's own change of password; the only page open while the password is temporary or expired."""
    user: AdminUser = g.admin
    forced = passwords.must_change(user)
    if request.method == "GET":
        return render_template("admin/account_password.html", forced=forced)
    form = schemas.load_args(schemas.PasswordForm(), request.form)

    def again(message: str, field: str):
        page = render_template("admin/account_password.html", forced=forced, error=message, field=field)
        return page, 422

    if form["new_password"] != form["confirm_password"]:
        return again("两次输入的新密码不一致", "confirm_password")
    try:
        account_lifecycle.change_password(
            user, form["current_password"], form["new_password"], ip=request.remote_addr, keep_session=auth.session_id()
        )
    except Invalid as refused:
        db.session.rollback()
        return again(refused.message, next(iter(refused.errors or {"password": None})))
    flash("密码已修改", "ok")
    return redirect(_landing(user), 303)


@blp.get("/")
def home():
    return redirect(_landing(g.admin))


@blp.get("/<path:unknown>")
def unknown_page(unknown: str):
    """A mistyped admin address gets a page, not the API's JSON error."""
    raise NotFound("页面不存在")


# -- complaints ---------------------------------------------------------------------------------
@blp.get("/complaints")
def queue():
    args = schemas.load_args(schemas.QueueArgs(), request.args)
    result = complaints.queue(g.admin, page_size=QUEUE_PAGE_SIZE, **args)
    return render_template("admin/queue.html", args=args, result=result, is_overdue=complaints.is_overdue)


@blp.get("/complaints/<string:tracking_no>")
def complaint(tracking_no: str):
    item = complaints.for_admin(g.admin, tracking_no)
    return render_template(
        "admin/complaint.html",
        c=item,
        actions=available_actions(g.admin, item),
        officer=complaints.linked_officer(item),
        handlers=complaints.assignable_handlers(item),
        overdue=complaints.is_overdue(item),
        evidence=item.evidence if complaint_evidence.may_read(g.admin, item) else None,
        event_labels=EVENT_LABELS,
        channel_labels=CHANNEL_LABELS,
        routed_labels=ROUTED_LABELS,
        credential_labels=CREDENTIAL_LABELS,
    )


@blp.get("/complaints/<string:tracking_no>/evidence/<int(max=2147483647):evidence_id>")
def complaint_evidence_file(tracking_no: str, evidence_id: int):
    """One evidence file, for the handlers of the agency working the complaint; each download audited."""
    item = complaints.for_admin(g.admin, tracking_no)
    found = complaint_evidence.for_handler(g.admin, item, evidence_id, ip=request.remote_addr)
    response = Response(found.data, mimetype=found.media_type)
    # Downloaded, never rendered in the admin page's origin (a PDF can carry script); never kept by a cache.
    response.headers["Content-Disposition"] = f"attachment; filename={tracking_no}-{found.id}.{found.extension}"
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.post("/complaints/<string:tracking_no>/<string:action>")
def act(tracking_no: str, action: str):
    if action not in ACTIONS:
        raise NotFound("没有这个操作")
    item = complaints.for_admin(g.admin, tracking_no)
    perform, form_schema, done = ACTIONS[action]
    back = redirect(url_for(".complaint", tracking_no=tracking_no), 303)
    fields = _load_form(form_schema)
    if fields is None:
        return back
    try:
        perform(g.admin, item, *fields.values(), ip=request.remote_addr)
    except (Conflict, Invalid, Forbidden) as refused:
        db.session.rollback()
        flash(refused.message, "error")
    except StaleDataError:  # someone else changed it between our read and our write
        db.session.rollback()
        flash("该投诉刚被他人更新，请查看最新状态后重试", "error")
    else:
        flash(done, "ok")
    return back


def _load_form(form_schema: type[ma.Schema]) -> dict[str, Any] | None:
    """The posted form, or None with what was refused flashed, each field named as the form labels it."""
    try:
        return form_schema().load(request.form)
    except ma.ValidationError as error:
        for field, messages in error.messages.items():
            flash(f"{schemas.FIELD_LABELS.get(field, field)}{messages[0]}", "error")
        return None


def available_actions(user: AdminUser, item: Complaint) -> tuple[str, ...]:
    """The forms worth showing; the services check again and have the last word."""
    may_escalate = item.escalated_at is None and (user.role != AdminRole.handler or user.agency_id == item.agency_id)
    return tuple(action for action in ACTIONS_BY_STATUS[Status(item.status)] if action != "escalate" or may_escalate)


# -- supervision --------------------------------------------------------------------------------
@blp.get("/supervision")
def hot_spots():
    args = schemas.load_args(schemas.PeriodArgs(), request.args)
    date_to = args.get("date_to") or today()
    date_from = args.get("date_from") or date_to - dt.timedelta(days=HOT_SPOT_DAYS - 1)
    date_from, date_to = min(date_from, date_to), max(date_from, date_to)
    spots = supervision.hot_spots(g.admin, date_from=date_from, date_to=date_to)
    return render_template(
        "admin/supervision.html",
        spots=spots,
        date_from=date_from,
        date_to=date_to,
        disclosure_labels=DISCLOSURE_LABELS,
    )


@blp.get("/dashboard")
def dashboard():
    """Issue 8's figures at a glance: 公示率 per agency as bars, and the lists behind them."""
    args = schemas.load_args(schemas.PeriodArgs(), request.args)
    date_to = args.get("date_to") or today()
    date_from = args.get("date_from") or date_to.replace(month=1, day=1)
    date_from, date_to = min(date_from, date_to), max(date_from, date_to)
    summary = supervision.summary(g.admin, date_from=date_from, date_to=date_to)
    return render_template(
        "admin/dashboard.html",
        summary=summary,
        date_from=date_from,
        date_to=date_to,
        major_by_labels=MAJOR_BY_LABELS,
        rate_bars=_bars([(r["name"], r["on_time_rate"] or 0.0) for r in summary["on_time"]], 1.0),
        withdrawal_bars=_bars(
            [(WITHDRAWAL_LABELS.get(k, k), v) for k, v in summary["withdrawals_by_reason"].items()], None
        ),
    )


def _bars(values: list[tuple[str, float]], scale: float | None) -> list[dict[str, Any]]:
    """Rows of a horizontal bar chart drawn as inline SVG (no script: the CSP allows none)."""
    top = scale or max((v for _, v in values), default=0) or 1
    return [
        {"label": label, "value": value, "width": round(300 * value / top, 1), "y": 26 * i}
        for i, (label, value) in enumerate(values)
    ]


@blp.get("/disclosure-changes")
def disclosure_changes():
    args = schemas.load_args(schemas.ChangesArgs(), request.args)
    result = supervision.disclosure_changes(g.admin, **args)
    return render_template(
        "admin/changes.html",
        args=args,
        result=result,
        change_labels=CHANGE_LABELS,
        reason_labels={**WITHDRAWAL_LABELS, "expired": "公示期满"},
    )


# -- accounts (系统管理员) --------------------------------------------------------------------------------
@blp.get("/accounts")
def accounts_page():
    """Every admin account with its state, the form that creates one, and each one's disable, enable, reset."""
    live: dict[int, int] = {}
    for row in sessions.live():
        live[row.user_id] = live.get(row.user_id, 0) + 1
    return render_template(
        "admin/accounts.html", accounts=account_lifecycle.accounts(), live=live, expired=passwords.expired
    )


def _temporary_password_page(username: str, password: str, created: bool):
    """The temporary password, shown this once (the response is not cached: no-store)."""
    return render_template("admin/temporary_password.html", username=username, password=password, created=created)


@blp.post("/accounts")
def create_account():
    back = redirect(url_for(".accounts_page"), 303)
    form = _load_form(schemas.AccountForm)
    if form is None:
        return back
    temporary = passwords.temporary_password(form["username"])
    try:
        accounts.create_admin(
            username=form["username"],
            password=temporary,
            role=form["role"],
            actor=f"admin:{g.admin.username}",
            agency_code=form["agency"],
            region_code=form["region"],
            badge_no=form["badge"],
            temporary=True,
        )
    except (Conflict, Invalid, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return back
    return _temporary_password_page(form["username"], temporary, created=True)


def _account_action(username: str, perform: Callable[..., Any], done: str):
    back = redirect(url_for(".accounts_page"), 303)
    if _load_form(schemas.NoFields) is None:
        return back
    try:
        perform(username, actor=f"admin:{g.admin.username}", ip=request.remote_addr)
    except (Conflict, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(done.format(username=username), "ok")
    return back


@blp.post("/accounts/<string:username>/disable")
def disable_account(username: str):
    return _account_action(username, account_lifecycle.disable, "已停用 {username}，其会话已全部结束")


@blp.post("/accounts/<string:username>/enable")
def enable_account(username: str):
    return _account_action(username, account_lifecycle.enable, "已启用 {username}")


@blp.post("/accounts/<string:username>/reset-password")
def reset_password(username: str):
    if _load_form(schemas.NoFields) is None:
        return redirect(url_for(".accounts_page"), 303)
    try:
        actor = f"admin:{g.admin.username}"
        temporary = account_lifecycle.reset_password(username, actor=actor, ip=request.remote_addr)
    except (Conflict, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for(".accounts_page"), 303)
    return _temporary_password_page(username, temporary, created=False)


# -- sessions, second factors and the settings in force (安全管理员) -----------------------------------------
SETTINGS_SHOWN = (
    ("PASSWORD_MIN_LENGTH", "密码最短长度（字符）"),
    ("PASSWORD_MAX_AGE_DAYS", "密码有效期（天，0 为不过期）"),
    ("ADMIN_TOTP_REQUIRED", "所有管理账户须启用两步验证"),
    ("ADMIN_IDLE_SECONDS", "会话空闲超时（秒）"),
    ("ADMIN_SESSION_SECONDS", "会话最长时间（秒）"),
    ("TOKEN_TTL_SECONDS", "接口令牌有效期（秒）"),
    ("TOKEN_FAILURES_ALLOWED", "连续失败次数（超过后须等待）"),
    ("ADMIN_COOKIE_SECURE", "会话 Cookie 仅经 HTTPS 发送"),
    ("AUDIT_RETENTION_DAYS", "审计记录最短保存期（天）"),
)
KEY_RINGS = (("badge_keys", "执法证件二维码签名密钥"), ("transparency_keys", "透明日志检查点签名密钥"))


@blp.get("/security")
def security_page():
    """Every live session (to end one, or all of a user's), the form that resets a second factor, and the
    security settings in force with the signing key ids: read only, as configuration sets them."""
    rings = []
    for name, label in KEY_RINGS:
        ring = current_app.extensions[name]
        keys = ring.keys()
        rings.append({"label": label, "kids": sorted(keys), "signing": ring.signing_key().kid if keys else None})
    settings = [(name, label, current_app.config[name]) for name, label in SETTINGS_SHOWN]
    return render_template(
        "admin/security.html",
        live=sessions.live(),
        settings=settings,
        rings=rings,
        classes=passwords.CLASSES_NEEDED,
        history=passwords.HISTORY,
    )


def _security_action(perform: Callable[[], Any], done: str):
    back = redirect(url_for(".security_page"), 303)
    try:
        perform()
    except (Invalid, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(done, "ok")
    return back


@blp.post("/security/sessions/<int(max=2147483647):session_id>/revoke")
def revoke_session(session_id: int):
    if _load_form(schemas.NoFields) is None:
        return redirect(url_for(".security_page"), 303)
    actor = f"admin:{g.admin.username}"
    return _security_action(lambda: sessions.revoke(session_id, actor=actor, ip=request.remote_addr), "已终止该会话")


@blp.post("/security/users/<string:username>/revoke")
def revoke_sessions(username: str):
    if _load_form(schemas.NoFields) is None:
        return redirect(url_for(".security_page"), 303)
    actor = f"admin:{g.admin.username}"
    return _security_action(
        lambda: sessions.revoke_all(username, actor=actor, ip=request.remote_addr), f"已终止 {username} 的全部会话"
    )


@blp.post("/security/second-factor/reset")
def reset_second_factor():
    form = _load_form(schemas.UsernameForm)
    if form is None:
        return redirect(url_for(".security_page"), 303)
    actor, username = f"admin:{g.admin.username}", form["username"]
    return _security_action(
        lambda: totp.reset(username, actor=actor, ip=request.remote_addr),
        f"已重置 {username} 的两步验证，其下次登录时须重新启用",
    )


# -- the audit trail (审计管理员) -----------------------------------------------------------------------
def _audit_filters(args: dict[str, Any]) -> audit_log.Filters:
    keys = ("actor", "action", "target_type", "target_id", "date_from", "date_to")
    return audit_log.Filters(**{key: args.get(key) for key in keys})


@blp.get("/audit")
def audit_trail():
    """The audit trail, newest first, filtered; its reading is itself audited (record_read, in the guard)."""
    args = schemas.load_args(schemas.AuditArgs(), request.args)
    result = audit_log.page(_audit_filters(args), args["page"], QUEUE_PAGE_SIZE)
    return render_template("admin/audit.html", args=args, result=result)


@blp.get("/audit.csv")
def audit_export():
    """The filtered trail as CSV, oldest first (at most EXPORT_LIMIT rows)."""
    args = schemas.load_args(schemas.AuditArgs(), request.args)
    entries = audit_log.export(_audit_filters(args), EXPORT_LIMIT)
    headers = {"Content-Disposition": f"attachment; filename=audit-{g.admin.username}.csv"}
    return Response(audit_log.to_csv(entries), mimetype="text/csv", headers=headers)


# -- legal review (法制审核) -------------------------------------------------------------------------
REVIEW_PATH = "/reviews/<string:agency>/<string:case_no>/<int(max=2147483647):number>"


@blp.get("/reviews")
def reviews_queue():
    """The signed-in reviewer's queue: submissions awaiting their opinion, the most urgent first."""
    return render_template("admin/reviews.html", items=reviews.queue(g.admin), is_overdue=reviews.is_overdue)


@blp.get(REVIEW_PATH)
def review(agency: str, case_no: str, number: int):
    return _review_page(reviews.for_reviewer(g.admin, agency, case_no, number))


def _review_page(item: CaseReview, typed: dict[str, str] | None = None, status: int = 200):
    """The case, its records, the submission and (while pending) the opinion form, refilled with ``typed``."""
    page = render_template(
        "admin/review.html",
        r=item,
        case=item.case,
        records=reviews.case_records(item.case),
        overdue=reviews.is_overdue(item),
        typed=typed or {},
        checklist=CHECKLIST,
        step_labels=STEP_LABELS,
        outcome_labels=reviews.OUTCOME_LABELS,
        disclosure_labels=DISCLOSURE_LABELS,
        reason_prefix=schemas.REASON_PREFIX,
    )
    return page, status


@blp.post(REVIEW_PATH + "/opinion")
def opinion(agency: str, case_no: str, number: int):
    """Give the opinion through reviews.give_opinion; what was refused comes back with the form as typed."""
    item = reviews.for_reviewer(g.admin, agency, case_no, number)
    typed = {key: value for key, value in request.form.items() if key != csrf.FIELD}
    body = _load_form(schemas.OpinionForm)
    if body is None:
        return _review_page(item, typed, 400)
    try:
        reviews.give_opinion(g.admin, item, body, request.remote_addr)
    except (Conflict, Invalid, Forbidden) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _review_page(item, typed, refused.status)
    flash(f"已出具审核意见：{reviews.OUTCOME_LABELS[item.outcome]}", "ok")
    return redirect(url_for(".review", agency=agency, case_no=case_no, number=number), 303)


@blp.get(REVIEW_PATH + "/letter")
def letter(agency: str, case_no: str, number: int):
    """法制审核意见书: the printable opinion, with the transparency-log entry that commits to it."""
    item = reviews.decided_for_reader(g.admin, agency, case_no, number)
    return render_template(
        "admin/letter.html",
        r=item,
        case=item.case,
        checklist=CHECKLIST,
        outcome_labels=reviews.OUTCOME_LABELS,
        disclosure_labels=DISCLOSURE_LABELS,
        digest=content_digest(reviews.opinion_content(item.case, item)),
    )


@blp.get("/reviewers")
def reviewers():
    """The supervisor's registry of filed reviewers and each agency's reviewers against the 5% rule."""
    registry = reviewer_registry.registry(g.admin, ip=request.remote_addr)
    return render_template("admin/reviewers.html", registry=registry)


# -- 负面清单 -----------------------------------------------------------------------------------------
NEGATIVE_FIGURE_LABELS = {
    "complaints": "投诉",
    "corrections": "更正",
    "withdrawals": "撤下",
    "overdue": "逾期公示",
    "deductions": "评查扣分",
}


@blp.get("/negative-list")
def negative_list_page():
    """The 负面清单 in the supervisor's scope, with the figures of each entry; the 司法局's publish button."""
    args = schemas.load_args(schemas.NegativeListArgs(), request.args)
    thresholds = negative_list.Thresholds.from_config(current_app.config)
    date_to = args.pop("date_to", None) or today()
    date_from = args.pop("date_from", None) or date_to - dt.timedelta(days=thresholds.days - 1)
    date_from, date_to = min(date_from, date_to), max(date_from, date_to)
    return render_template(
        "admin/negative_list.html",
        args=args,
        date_from=date_from,
        date_to=date_to,
        ranked=negative_list.ranking(
            g.admin, thresholds, date_from=date_from, date_to=date_to, agency=args.get("agency"), limit=20
        ),
        result=negative_list.entries(g.admin, page_size=QUEUE_PAGE_SIZE, **args),
        publishers=negative_list.publishers(g.admin),
        figures=NEGATIVE_LIST_FIGURES,
        figure_labels=NEGATIVE_FIGURE_LABELS,
        reason_labels=WITHDRAWAL_LABELS,
    )


@blp.post("/negative-list/publish")
def publish_negative_list():
    back = redirect(url_for(".negative_list_page"), 303)
    form = _load_form(schemas.PublisherForm)
    if form is None:
        return back
    try:
        item = negative_list.publish(g.admin, form["agency"], ip=request.remote_addr)
    except (Invalid, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(f"已公开负面清单：{item.title}", "ok")
    return back


# -- pre-publication approval (经法制部门审核后公示) ------------------------------------------------------
@blp.get("/approvals")
def approvals():
    """Held pre-phase lists the user may approve or return; for supervisors, the requirements they set."""
    args = schemas.load_args(schemas.PageArgs(), request.args)
    return render_template(
        "admin/approvals.html",
        result=approval.queue(g.admin, page=args["page"], page_size=QUEUE_PAGE_SIZE),
        requirements=approval.requirements(g.admin),
        approvable_types=APPROVABLE_TYPES,
        approver_agency_types=APPROVER_AGENCY_TYPES,
        disclosure_labels=DISCLOSURE_LABELS,
        detail_labels=DETAIL_LABELS,
        flatten=flatten_text,
    )


@blp.post("/approvals/<int(max=2147483647):request_id>/approve")
def approve(request_id: int):
    return _submitted(
        schemas.NoFields,
        lambda _: approval.approve(g.admin, request_id, ip=request.remote_addr),
        "已审核通过，该信息已公开",
    )


@blp.post("/approvals/<int(max=2147483647):request_id>/return")
def return_for_revision(request_id: int):
    return _submitted(
        schemas.ReasonForm,
        lambda form: approval.return_(g.admin, request_id, form["reason"], ip=request.remote_addr),
        "已退回执法主体",
    )


@blp.post("/approval-requirements")
def require_approval():
    def perform(form: dict[str, Any]) -> None:
        approval.require(g.admin, form["agency"], form["type"], form["approver_agency"], ip=request.remote_addr)

    return _submitted(schemas.RequirementForm, perform, "已设置：该类清单须审核后公开")


@blp.post("/approval-requirements/<string:agency>/<string:type_>/lift")
def lift_approval(agency: str, type_: str):
    return _submitted(
        schemas.NoFields,
        lambda _: approval.lift(g.admin, agency, type_, ip=request.remote_addr),
        "已取消该审核要求",
    )


def _submitted(form_schema: type[ma.Schema], perform: Callable[[dict[str, Any]], Any], done: str):
    """Load the form and perform; back to the approval page, with what was refused as a flash."""
    back = redirect(url_for(".approvals"), 303)
    form = _load_form(form_schema)
    if form is None:
        return back
    try:
        perform(form)
    except (Conflict, Invalid, NotFound) as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(done, "ok")
    return back


# -- push subscriptions parked after a day of failed deliveries ----------------------------------------
@blp.get("/push")
def push_page():
    """Parked push subscriptions, each with the delivery that failed for the whole retry window."""
    return render_template("admin/push.html", parked=push.parked_subscriptions())


@blp.post("/push/<int(max=2147483647):subscription_id>/resume")
def resume_push(subscription_id: int):
    back = redirect(url_for(".push_page"), 303)
    if _load_form(schemas.NoFields) is None:
        return back
    try:
        push.resume(subscription_id, actor=f"admin:{g.admin.username}", ip=request.remote_addr)
    except NotFound as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash("已恢复推送：搁置的事件将首先重发", "ok")
    return back


# -- 实时调阅 ------------------------------------------------------------------------------------------
@blp.get("/cases")
def cases():
    """The supervisor's search over the cases of their region and the divisions below it."""
    args = schemas.load_args(schemas.CaseListArgs(), request.args)
    result = case_reads.list_cases(g.admin, page_size=QUEUE_PAGE_SIZE, **args)
    return render_template("admin/cases.html", args=args, result=result)


@blp.get("/cases/<string:agency>/<string:case_no>")
def case(agency: str, case_no: str):
    """One case file, read as the API reads it; the read is audited."""
    found = case_reads.read_case(g.admin, agency, case_no, via="page", ip=request.remote_addr)
    flags_by_seq: dict[int, list[dict[str, Any]]] = {}
    for flag in found.chain["flags"]:
        flags_by_seq.setdefault(flag["seq"], []).append(flag)
    return render_template(
        "admin/case.html",
        case=found.case,
        chain=found.chain,
        flags_by_seq=flags_by_seq,
        reviews=found.reviews,
        disclosures=found.disclosures,
        complaints=found.complaints,
        step_labels=STEP_LABELS,
        outcome_labels=reviews.OUTCOME_LABELS,
        disclosure_labels=DISCLOSURE_LABELS,
        status_names=DISCLOSURE_STATUS_LABELS,
    )


# -- 案卷评查 (evaluation rounds) -------------------------------------------------------------------------
EVALUATION_CASE_PATH = "/evaluations/<int(max=2147483647):round_id>/cases/<int(max=100000):rank>"


@blp.get("/evaluations")
def evaluations():
    """The user's assigned cases; for supervisors also their rounds and the form that starts one."""
    return render_template(
        "admin/evaluations.html",
        assignments=evaluation.assignments(g.admin),
        rounds=evaluation.rounds(g.admin),
    )


@blp.post("/evaluations")
def start_evaluation():
    form = _load_form(schemas.EvaluationForm)
    if form is None:
        return redirect(url_for(".evaluations"), 303)
    try:
        made = evaluation.create_round(g.admin, form, ip=request.remote_addr)
    except (Invalid, NotFound, Forbidden) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return redirect(url_for(".evaluations"), 303)
    flash(f"已发起第 {made.id} 轮案卷评查，抽取 {len(made.sample)} 件", "ok")
    return redirect(url_for(".evaluation_round", round_id=made.id), 303)


@blp.get("/evaluations/<int(max=2147483647):round_id>")
def evaluation_round(round_id: int):
    """A round: its draw (as published), the sampled cases with their evaluators and scores, results per agency."""
    made = evaluation.round_for(g.admin, round_id)
    return render_template(
        "admin/evaluation_round.html",
        r=made,
        public=evaluation.public_round(round_id),
        results=evaluation.round_results(made),
    )


@blp.get(EVALUATION_CASE_PATH)
def evaluation_case(round_id: int, rank: int):
    return _evaluation_case_page(evaluation.assigned(g.admin, round_id, rank))


def _evaluation_case_page(
    item: Any, typed: dict[str, str] | None = None, status: int = 200, errors: dict[str, Any] | None = None
):
    """The case's records and the scoring sheet; the form while its evaluator has not scored it."""
    page = render_template(
        "admin/evaluation_case.html",
        item=item,
        case=item.case,
        records=reviews.case_records(item.case),
        step_labels=STEP_LABELS,
        typed=typed or {},
        errors=errors or {},
    )
    return page, status


@blp.post(EVALUATION_CASE_PATH + "/score")
def score_case(round_id: int, rank: int):
    item = evaluation.assigned(g.admin, round_id, rank)
    typed = {key: value for key, value in request.form.items() if key != csrf.FIELD}
    given = {
        entry["key"]: {"score": typed.get(f"score_{entry['key']}"), "comment": typed.get(f"comment_{entry['key']}")}
        for entry in item.round.sheet
    }
    try:
        evaluation.score(g.admin, item, given, ip=request.remote_addr)
    except (Conflict, Invalid, Forbidden) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _evaluation_case_page(item, typed, refused.status, refused.errors or {})
    flash(f"已评分：{item.total} 分", "ok")
    return redirect(url_for(".evaluation_case", round_id=round_id, rank=rank), 303)


# -- 信息发布 (the publisher's web entry form) ------------------------------------------------------------
@blp.get("/publish")
def publish_list():
    """The agency's items, and the types a new one may be."""
    args = schemas.load_args(schemas.PageArgs(), request.args)
    result = disclosure_reading.list_own(g.admin.agency, page=args["page"], page_size=QUEUE_PAGE_SIZE)
    return render_template(
        "admin/publish_list.html",
        result=result,
        types=PHASE_OF_TYPE,
        disclosure_labels=DISCLOSURE_LABELS,
        status_names=DISCLOSURE_STATUS_LABELS,
    )


@blp.get("/publish/new")
def publish_new():
    type_ = request.args.get("type", "")
    if type_ not in PHASE_OF_TYPE:
        raise NotFound("没有这个公示类型")
    return _entry_page({"type": type_, "publish": "1"})


@blp.get("/publish/items/<string:external_id>")
def publish_item(external_id: str):
    """One item: its status and public view, the form to correct it, and the form to withdraw it."""
    item = disclosure_reading.get_own(g.admin.agency, external_id)
    return _entry_page(entry_form.fields_of(item), item=item)


def _entry_page(typed: dict[str, str], *, item: Any = None, errors: dict[str, Any] | None = None, status: int = 200):
    page = render_template(
        "admin/publish_form.html",
        typed=typed,
        item=item,
        errors=errors or {},
        labels=entry_form.FIELD_LABELS,
        categories=list(Category),
        disclosure_labels=DISCLOSURE_LABELS,
        status_names=DISCLOSURE_STATUS_LABELS,
        withdrawal_labels=WITHDRAWAL_LABELS,
    )
    return page, status


def _existing(external_id: str) -> Any:
    """The agency's item being corrected, or None for a new one."""
    try:
        return disclosure_reading.get_own(g.admin.agency, external_id)
    except NotFound:
        return None


@blp.post("/publish/preview")
def publish_preview():
    """Validate and pass the submission through the privacy gate without saving: what citizens would see."""
    typed = entry_form.typed_fields(request.form)
    if request.form.get("edit"):  # back from the preview to the form, as typed
        return _entry_page(typed, item=_existing(typed.get("external_id", "")))
    try:
        external_id, data = entry_form.submission(typed)
        public = publishing.preview(g.admin.agency, external_id, data)
    except (Invalid, Conflict) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _entry_page(typed, item=_existing(typed.get("external_id", "")), errors=refused.errors, status=422)
    db.session.rollback()  # nothing of the preview stays
    return render_template(
        "admin/publish_preview.html",
        typed=typed,
        payload=json.dumps(typed, ensure_ascii=False),
        public=public,
        data=data,
        existing=_existing(external_id),
        labels=entry_form.FIELD_LABELS,
        disclosure_labels=DISCLOSURE_LABELS,
    )


@blp.post("/publish/confirm")
def publish_confirm():
    """Publish what was previewed (validated again: the carried fields are the browser's), as the API does."""
    try:
        carried = json.loads(request.form.get("payload", ""))
    except ValueError:
        carried = None
    if not isinstance(carried, dict):
        raise Invalid("提交的内容有误")
    typed = entry_form.typed_fields(carried)
    actor = f"admin:{g.admin.username}"
    try:
        external_id, data = entry_form.submission(typed)
        result = publishing.upsert(g.admin.agency, external_id, data, actor)
    except (Invalid, Conflict) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return _entry_page(typed, item=_existing(typed.get("external_id", "")), errors=refused.errors, status=422)
    action = {"created": "disclosure.publish", "updated": "disclosure.correct"}.get(result.outcome)
    if action:
        record(actor, action, "disclosure", result.item.id, ip=request.remote_addr, external_id=external_id)
        db.session.commit()
    flash({"created": "已提交", "updated": "已更正", "unchanged": "内容未变"}[result.outcome], "ok")
    return redirect(url_for(".publish_item", external_id=external_id), 303)


@blp.post("/publish/items/<string:external_id>/withdraw")
def publish_withdraw(external_id: str):
    disclosure_reading.get_own(g.admin.agency, external_id)  # another agency's item: 404
    back = redirect(url_for(".publish_item", external_id=external_id), 303)
    form = _load_form(WithdrawForm)
    if form is None:
        return back
    try:
        lifecycle.withdraw(
            g.admin.agency,
            external_id,
            actor=f"admin:{g.admin.username}",
            ip=request.remote_addr,
            document_no=form.get("document_no"),
            reason=form["reason"],
            explanation=form["explanation"],
        )
    except Conflict as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash("已撤下", "ok")
    return back


class WithdrawForm(schemas.FormSchema, WithdrawSchema):
    """The API's withdrawal, from a browser form (blank fields are missing ones)."""


# -- officers and their badges ------------------------------------------------------------------------
@blp.get("/officers")
def officer_list():
    return render_template(
        "admin/officers.html",
        officers=officers.list_own(g.admin.agency),
        credential_labels=CREDENTIAL_LABELS,
        statuses=list(CredentialStatus),
    )


class OfficerForm(schemas.FormSchema, OfficerPutSchema):
    """The API's officer (without a photo upload), from a browser form; domains one per line."""

    badge_no = ma.fields.String(required=True)

    @ma.pre_load
    def drop_blanks(self, data: Any, **kwargs: Any) -> dict[str, Any]:
        kept = super().drop_blanks(data, **kwargs)
        for key in ("domains", "regions"):
            if key in kept:
                kept[key] = [line.strip() for line in kept[key].splitlines() if line.strip()]
        kept.pop("photo", None)
        return kept


class OfficerStatusForm(schemas.FormSchema, OfficerStatusSchema):
    """The API's credential status change, from a browser form."""


@blp.post("/officers")
def officer_register():
    back = redirect(url_for(".officer_list"), 303)
    form = _load_form(OfficerForm)
    if form is None:
        return back
    badge_no = form.pop("badge_no")
    try:
        officer, outcome = officers.upsert_officer(g.admin.agency, badge_no, form, f"admin:{g.admin.username}")
    except (Invalid, Conflict) as refused:
        db.session.rollback()
        flash(refused.message, "error")
        return back
    target = f"{g.admin.agency.code}/{badge_no}"
    record(f"admin:{g.admin.username}", f"officer.{outcome}", "officer", target, ip=request.remote_addr)
    db.session.commit()
    flash(f"已登记执法人员 {officer.name}（{officer.badge_no}）", "ok")
    return back


@blp.post("/officers/<string:badge_no>/status")
def officer_status(badge_no: str):
    officers.get_own(g.admin.agency, badge_no)  # another agency's officer: 404
    back = redirect(url_for(".officer_list"), 303)
    form = _load_form(OfficerStatusForm)
    if form is None:
        return back
    officers.set_status(
        g.admin.agency, badge_no, form["status"], form["reason"], f"admin:{g.admin.username}", ip=request.remote_addr
    )
    flash("已更新证件状态", "ok")
    return back


@blp.get("/officers/<string:badge_no>/card")
def officer_card(badge_no: str):
    """The badge card's print view: the card the API renders, on a page made for printing."""
    officer = officers.get_own(g.admin.agency, badge_no)
    return render_template("admin/officer_card.html", officer=officer)


@blp.get("/officers/<string:badge_no>/card.svg")
def officer_card_svg(badge_no: str):
    card = officers.badge_card(g.admin.agency, badge_no)
    return Response(badge_card.render_svg(card), mimetype="image/svg+xml")
