"""The SMS desk (SPEC §7) under /staff/sms/: the outbox with search and export, message
details, the call-task queue, the replies inbox, templates with a length and cost preview,
the cost ledger and a test send. Every read goes through a scoped selector and mobiles are
masked; the full number is a separate, audited request. Route scoping and the role matrix
are proven in tests/test_scope_matrix.py."""

import secrets

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sunshine.accounts.access import export_start, staff_required
from sunshine.core import exports
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.messaging import exports as messaging_exports
from sunshine.messaging import forms, inbox, rules, selectors, services, testsend
from sunshine.messaging.models import CallTask

PAGE_SIZE = 50
TOKENS_KEY = "sms_test_tokens"
TOKENS_KEPT = 20


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


# Outbox -------------------------------------------------------------------------------------


def _outbox(request):
    return messaging_exports.outbox_filtered(request.user, request.GET)


@staff_required("sms.view")
def outbox(request):
    form, qs = _outbox(request)
    template = "messaging/_message_rows.html" if request.htmx else "messaging/outbox.html"
    return render(request, template, {"form": form, "page": _page(request, qs)})


EXPORT_HEADERS = messaging_exports.HEADERS


@staff_required("sms.view")
def outbox_export_xlsx(request):
    return export_start(request, "messaging.outbox", "xlsx")


@staff_required("sms.view")
def outbox_export_csv(request):
    return export_start(request, "messaging.outbox", "csv")


def _message_page(request, message, **extra):
    call_task = getattr(message, "call_task", None)  # the reverse one-to-one, when there is one
    context = {
        "message": message,
        "history": list(selectors.message_history(message)),
        "receipts": list(selectors.message_receipts(message)),
        "call_task": call_task,
        "programme": selectors.programme_label(message.programme),
        "can_reveal": selectors.can_see_identifiers(request.user),
        "reveal_url": "messaging_staff:message-mobile",
        "reveal_id": message.pk,
        **extra,
    }
    return render(request, "messaging/message_detail.html", context)


@staff_required("sms.view")
def message_detail(request, message_id):
    return _message_page(request, selectors.message_get_for_actor(request.user, message_id))


def _reveal(request, obj, page):
    form = forms.RevealForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    mobile = selectors.mobile_reveal(request.user, obj, reason=reason)  # may refuse: 403
    if request.htmx:
        return render(request, "messaging/_mobile.html", {"mobile": mobile, "full": mobile})
    return page(mobile)


@staff_required("sms.view")
@require_POST
def message_mobile(request, message_id):
    message = selectors.message_get_for_actor(request.user, message_id)
    return _reveal(request, message, lambda m: _message_page(request, message, revealed=m))


# Test send ----------------------------------------------------------------------------------


def _token_lookup(request, token: str) -> int | None:
    return request.session.get(TOKENS_KEY, {}).get(token) if token else None


def _token_spend(request, token: str, message_id: int) -> None:
    used = request.session.get(TOKENS_KEY, {})
    used[token] = message_id
    request.session[TOKENS_KEY] = dict(list(used.items())[-TOKENS_KEPT:])


@staff_required("sms.send")
def test_send(request):
    templates = list(selectors.template_choices())
    if request.method != "POST":
        form = forms.TestSendForm(initial={"token": secrets.token_urlsafe(16)}, templates=templates)
        return render(request, "messaging/test_send.html", {"form": form})
    form = forms.TestSendForm(request.POST, templates=templates)
    token = request.POST.get("token", "")[:64]
    done = _token_lookup(request, token)
    lock = f"sms:test-token:{request.user.pk}:{token}"
    if done is None and token and not cache.add(lock, 1, timeout=60):
        done = 0  # the same form is being sent by a request still running
    if done is not None:
        messages.info(request, "这份表单已经提交过，没有重复发送。")
        if done:
            return redirect("messaging_staff:message-detail", message_id=done)
        return redirect("messaging_staff:outbox")
    try:
        if form.is_valid():
            d = form.cleaned_data
            try:
                message = testsend.message_send_test(
                    actor=request.user,
                    mobile=d["mobile"],
                    body=d["body"],
                    template=d["template"],
                    params=d["params"],
                )
            except ServiceError as exc:
                form_add_error(form, exc)
            else:
                if token:
                    _token_spend(request, token, message.pk)
                if message.status == rules.CANCELLED:
                    messages.warning(request, "这个号码已退订一般提醒，短信没有发出（已留记录）。")
                else:
                    messages.success(request, "测试短信已排队，稍后可在本页看到发送和送达情况。")
                return redirect("messaging_staff:message-detail", message_id=message.pk)
    finally:
        if token:
            cache.delete(lock)
    return render(request, "messaging/test_send.html", {"form": form})


# Call tasks ---------------------------------------------------------------------------------


@staff_required("calls.work")
def call_list(request):
    form = forms.CallFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    status = status or CallTask.OPEN
    qs = selectors.calltask_queue_for_actor(request.user, status=status)
    return render(
        request,
        "messaging/call_list.html",
        {"form": form, "status": status, "page": _page(request, qs)},
    )


def _call_page(request, task, **extra):
    context = {
        "task": task,
        "form": forms.CallCloseForm(),
        "suggestions": forms.OUTCOME_SUGGESTIONS,
        "can_reveal": selectors.can_see_identifiers(request.user, task),
        "reveal_url": "messaging_staff:call-mobile",
        "reveal_id": task.pk,
        **extra,
    }
    return render(request, "messaging/call_detail.html", context)


@staff_required("calls.work")
def call_detail(request, task_id):
    return _call_page(request, selectors.calltask_get_for_actor(request.user, task_id))


@staff_required("calls.work")
@require_POST
def call_close(request, task_id):
    task = selectors.calltask_get_for_actor(request.user, task_id, write=True)
    if task.status == CallTask.DONE:
        messages.info(request, "这条任务已经处理过了。")
        return redirect("messaging_staff:call-detail", task_id=task.pk)
    form = forms.CallCloseForm(request.POST)
    if form.is_valid():
        try:
            services.calltask_close(
                actor=request.user, task=task, outcome=form.cleaned_data["outcome"]
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已记录处理结果。下面是下一条待处理任务。")
            return redirect("messaging_staff:call-list")
    return _call_page(request, task, form=form)


@staff_required("calls.work")
@require_POST
def call_mobile(request, task_id):
    task = selectors.calltask_get_for_actor(request.user, task_id)
    return _reveal(request, task, lambda m: _call_page(request, task, revealed=m))


# Replies ------------------------------------------------------------------------------------


@staff_required("sms.view")
def reply_list(request):
    handled = request.GET.get("handled") == "1"
    qs = selectors.reply_inbox_for_actor(request.user, handled=handled)
    return render(
        request, "messaging/reply_list.html", {"handled": handled, "page": _page(request, qs)}
    )


def _reply_page(request, reply, **extra):
    context = {
        "reply": reply,
        "recent": selectors.message_list_for_mobile(request.user, reply.mobile),
        "form": forms.ReplyHandleForm(),
        "can_reveal": selectors.can_see_identifiers(request.user),
        "reveal_url": "messaging_staff:reply-mobile",
        "reveal_id": reply.pk,
        **extra,
    }
    return render(request, "messaging/reply_detail.html", context)


@staff_required("sms.view")
def reply_detail(request, reply_id):
    return _reply_page(request, selectors.reply_get_for_actor(request.user, reply_id))


@staff_required("calls.work")
@require_POST
def reply_handle(request, reply_id):
    reply = selectors.reply_get_for_actor(request.user, reply_id, write=True)
    if reply.handled:
        messages.info(request, "这条短信已经处理过了，不用再次处理。")
        return redirect("messaging_staff:reply-detail", reply_id=reply.pk)
    form = forms.ReplyHandleForm(request.POST)
    if form.is_valid():
        try:
            inbox.reply_handle(actor=request.user, reply=reply, note=form.cleaned_data["note"])
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已标记为已处理。")
            return redirect("messaging_staff:reply-list")
    return _reply_page(request, reply, form=form)


@staff_required("sms.view")
@require_POST
def reply_mobile(request, reply_id):
    reply = selectors.reply_get_for_actor(request.user, reply_id)
    return _reveal(request, reply, lambda m: _reply_page(request, reply, revealed=m))


# Templates ----------------------------------------------------------------------------------


@staff_required("sms.view")
def template_list(request):
    rows = [
        {"template": t, "preview": selectors.template_preview(t.body)}
        for t in selectors.template_list()
    ]
    return render(request, "messaging/template_list.html", {"rows": rows})


def _template_form_page(request, form, template=None):
    body = form["body"].value() or ""
    return render(
        request,
        "messaging/template_form.html",
        {"form": form, "template": template, "preview": selectors.template_preview(body)},
    )


def _template_save(request, form, template=None):
    d = form.cleaned_data
    code = template.code if template is not None else d["code"]
    if template is None and selectors.template_exists(code):
        form.add_error("code", "这个代码已经有模板在用，请换一个，或去修改那个模板。")
        return None
    bad = [p for p in _params_or_empty(d["body"]) if not p.isidentifier()]
    if bad:
        form.add_error("body", f"参数名“{bad[0]}”要以字母开头，如 {{name}}、{{date}}。")
        return None
    try:
        return services.template_save(
            actor=request.user,
            code=code,
            name=d["name"],
            body=d["body"],
            category=d["category"],
            provider_code=d["provider_code"],
        )
    except ServiceError as exc:
        form_add_error(form, exc)
        return None


def _params_or_empty(body: str) -> list[str]:
    try:
        return rules.template_params(body)
    except ValueError:
        return []  # template_save says what is wrong


@staff_required("sms.templates")
def template_create(request):
    form = forms.TemplateForm(request.POST or None, initial={"category": rules.NON_ESSENTIAL})
    if request.method == "POST" and form.is_valid():
        template = _template_save(request, form)
        if template is not None:
            messages.success(request, f"模板“{template.name}”已保存。")
            return redirect("messaging_staff:template-list")
    return _template_form_page(request, form)


@staff_required("sms.templates")
def template_edit(request, template_code):
    template = selectors.template_get(template_code)
    initial = {
        "code": template.code,
        "name": template.name,
        "body": template.body,
        "category": template.category,
        "provider_code": template.provider_code,
    }
    data = request.POST.copy() if request.method == "POST" else None
    if data is not None:
        data["code"] = template.code
    form = forms.TemplateForm(data, initial=initial)
    form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        if _template_save(request, form, template) is not None:
            messages.success(
                request, f"模板“{template.name}”已保存，排队中的短信发送时会用新内容。"
            )
            return redirect("messaging_staff:template-list")
    return _template_form_page(request, form, template)


@staff_required("sms.templates")
@require_POST
def template_preview(request):
    preview = selectors.template_preview(request.POST.get("body", "")[: rules.MAX_LENGTH])
    return render(request, "messaging/_template_preview.html", {"preview": preview})


# Cost ledger --------------------------------------------------------------------------------


@staff_required("sms.view")
def ledger(request):
    data = selectors.ledger_for_actor(request.user)
    return render(
        request,
        "messaging/ledger.html",
        {
            **data,
            "chart_month": selectors.ledger_chart(data["by_month"], months=True),
            "chart_place": selectors.ledger_chart(data["by_place"]),
            "chart_programme": selectors.ledger_chart(data["by_programme"]),
        },
    )


LEDGER_HEADERS = [
    "分组",
    "名称",
    "已发送短信（条）",
    "失败（条）",
    "计费条数",
    "费用（元）",
    "人数",
    "人均短信（条）",
    "人均费用（元）",
]


def _ledger_rows(data):
    for group, rows in (
        ("按项目", data["by_programme"]),
        ("按地方", data["by_place"]),
        ("按月份", [*data["by_month"], data["month_total"]]),
        ("合计", [data["total"]]),
    ):
        for r in rows:
            yield [
                group,
                r.label,
                r.messages,
                r.failed,
                r.segments,
                r.cost,
                r.participants,
                r.messages_per_participant if r.participants else "",
                r.cost_per_participant if r.participants else "",
            ]


@staff_required("sms.view")
def ledger_export_xlsx(request):
    data = selectors.ledger_for_actor(request.user)
    return exports.xlsx_response(
        "短信费用台账.xlsx", LEDGER_HEADERS, _ledger_rows(data), title="短信费用台账"
    )
