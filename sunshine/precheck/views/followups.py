"""Follow-ups and pregnancies of 好孕好运 under /staff/precheck/: the follow-up list and the
call page with its script and outcome form (operators and doctors, `precheck.followup`), the
pregnancy list and page with the campaign messages, LMP change and end forms, and the "记录怀孕"
form on a registration (doctors, `precheck.health`). Every read through a scoped selector;
health data and full mobiles are audited reads."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sunshine.accounts.access import staff_required
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.messaging.forms import DATE_ERRORS, StaffForm
from sunshine.precheck import followups, selectors
from sunshine.precheck.models import FollowUp, Pregnancy

PAGE_SIZE = 50


def _date(label: str, *, required: bool = False, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        error_messages={**DATE_ERRORS, "required": f"请填写{label}。"},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class FollowUpFilterForm(StaffForm):
    kind = forms.ChoiceField(
        label="随访类型", required=False, choices=[("", "全部"), *FollowUp.KIND_CHOICES]
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *FollowUp.STATUS_CHOICES]
    )
    due = forms.ChoiceField(
        label="应随访日期",
        required=False,
        choices=[("", "全部"), (followups.DUE_NOW, "已到期"), (followups.DUE_LATER, "未到期")],
    )


class FollowUpRecordForm(StaffForm):
    reached = forms.TypedChoiceField(
        label="是否联系上本人",
        choices=[("1", "已联系上本人"), ("0", "未联系上")],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={"required": "请选择是否联系上本人。"},
    )
    pregnant = forms.TypedChoiceField(
        label="是否已怀孕",
        required=False,
        choices=[("", "—"), ("1", "已怀孕"), ("0", "未怀孕")],
        coerce=lambda v: v == "1",
        empty_value=None,
    )
    lmp = _date("末次月经日期", help_text="已怀孕时必填；将据此推算预产期并开始孕期保健短信。")
    again = forms.BooleanField(label="未怀孕时，到期再做一次早孕随访", required=False, initial=True)
    outcome = forms.ChoiceField(
        label="妊娠结局", required=False, choices=[("", "—"), *FollowUp.OUTCOME_CHOICES]
    )
    outcome_date = _date("结局日期", help_text="分娩、流产等的日期。")
    notes = forms.CharField(
        label="随访记录",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="母婴情况、是否做过产后访视、叶酸服用情况等。",
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reached"].widget.attrs["class"] = "form-check-input"
        drop = (
            ("outcome", "outcome_date") if kind == FollowUp.EARLY else ("pregnant", "lmp", "again")
        )
        for name in drop:
            del self.fields[name]


class PregnancyForm(StaffForm):
    lmp = _date("末次月经日期", required=True, help_text="预产期 = 末次月经日期 + 280天。")


class PregnancyEndForm(StaffForm):
    outcome = forms.ChoiceField(
        label="妊娠结局",
        choices=[("", "—"), *FollowUp.OUTCOME_CHOICES],
        error_messages={"required": "请选择妊娠结局。"},
    )
    outcome_date = _date("结局日期", required=True)
    reason = forms.CharField(label="说明（选填）", required=False, max_length=200)


class RevealForm(StaffForm):
    reason = forms.CharField(label="查看原因（选填）", required=False, max_length=200)


# Follow-ups -------------------------------------------------------------------------------


@staff_required("precheck.followup")
def followup_list(request):
    form = FollowUpFilterForm(request.GET or None, initial={"status": FollowUp.OPEN})
    data = form.cleaned_data if form.is_valid() else {}
    status = data.get("status", FollowUp.OPEN) if form.is_bound else FollowUp.OPEN
    qs = followups.followup_list_for_actor(
        request.user, kind=data.get("kind", ""), status=status, due=data.get("due", "")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "precheck/followup_list.html",
        {"form": form, "page": page, "today": timezone.localdate(), "query": query.urlencode()},
    )


def _followup_page(request, followup, *, form=None, revealed=None, status=200):
    script = (
        followup.call_task.script if followup.call_task else followups.followup_script(followup)
    )
    return render(
        request,
        "precheck/followup_detail.html",
        {
            "followup": followup,
            "reg": followup.registration,
            "script": script,
            "form": form or FollowUpRecordForm(kind=followup.kind),
            "revealed": revealed,
            "history": followups.followups_of(followup.registration).exclude(pk=followup.pk),
        },
        status=status,
    )


@staff_required("precheck.followup")
def followup_detail(request, followup_id):
    return _followup_page(request, followups.followup_get_for_actor(request.user, followup_id))


@staff_required("precheck.followup")
@require_POST
def followup_record(request, followup_id):
    followup = followups.followup_get_for_actor(request.user, followup_id, write=True)
    if followup.status != FollowUp.OPEN:
        messages.info(request, "这条随访已经记录过了。")
        return redirect("precheck_staff:followup-detail", followup_id=followup.pk)
    form = FollowUpRecordForm(request.POST, kind=followup.kind)
    if form.is_valid():
        d = form.cleaned_data
        try:
            followups.followup_record(
                actor=request.user,
                followup=followup,
                reached=d["reached"],
                pregnant=d.get("pregnant"),
                lmp=d.get("lmp"),
                outcome=d.get("outcome", ""),
                outcome_date=d.get("outcome_date"),
                notes=d.get("notes", ""),
                again=d.get("again", False),
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            if d["reached"]:
                messages.success(request, "已记录随访结果。")
                return redirect("precheck_staff:followup-list")
            messages.info(request, "已记下这次未联系上，随访仍待完成。")
            return redirect("precheck_staff:followup-detail", followup_id=followup.pk)
    return _followup_page(request, followup, form=form)


@staff_required("precheck.followup")
@require_POST
def followup_mobiles(request, followup_id):
    followup = followups.followup_get_for_actor(request.user, followup_id)
    form = RevealForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    revealed = followups.followup_mobiles_reveal(request.user, followup, reason=reason)
    if request.htmx:
        return render(
            request,
            "precheck/followup_mobiles.html",
            {"reg": followup.registration, "followup": followup, "revealed": revealed},
        )
    return _followup_page(request, followup, revealed=revealed)


# Pregnancies ------------------------------------------------------------------------------


@staff_required("precheck.health")
def pregnancy_list(request):
    status = request.GET.get("status", Pregnancy.ONGOING)
    if status not in (Pregnancy.ONGOING, Pregnancy.ENDED, ""):
        status = Pregnancy.ONGOING
    qs = followups.pregnancy_list_for_actor(request.user, status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    followups.pregnancy_list_audit(request.user, list(page))
    return render(
        request,
        "precheck/pregnancy_list.html",
        {"page": page, "status": status, "today": timezone.localdate()},
    )


def _pregnancy_page(request, pregnancy, *, lmp_form=None, end_form=None, status=200):
    return render(
        request,
        "precheck/pregnancy_detail.html",
        {
            "pregnancy": pregnancy,
            "reg": pregnancy.registration,
            "messages_": followups.pregnancy_messages(pregnancy),
            "followups": followups.followups_of(pregnancy.registration),
            "lmp_form": lmp_form or PregnancyForm(initial={"lmp": pregnancy.lmp}),
            "end_form": end_form or PregnancyEndForm(),
            "today": timezone.localdate(),
        },
        status=status,
    )


@staff_required("precheck.health")
def pregnancy_detail(request, pregnancy_id):
    return _pregnancy_page(request, followups.pregnancy_get_for_actor(request.user, pregnancy_id))


@staff_required("precheck.health")
@require_POST
def pregnancy_lmp(request, pregnancy_id):
    pregnancy = followups.pregnancy_get_for_actor(request.user, pregnancy_id, write=True)
    form = PregnancyForm(request.POST)
    if form.is_valid():
        try:
            followups.pregnancy_lmp_change(
                actor=request.user, pregnancy=pregnancy, lmp=form.cleaned_data["lmp"]
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已修改末次月经日期，待发的孕期短信和随访日期已随之调整。")
            return redirect("precheck_staff:pregnancy-detail", pregnancy_id=pregnancy.pk)
    return _pregnancy_page(request, pregnancy, lmp_form=form)


@staff_required("precheck.health")
@require_POST
def pregnancy_end(request, pregnancy_id):
    pregnancy = followups.pregnancy_get_for_actor(request.user, pregnancy_id, write=True)
    if pregnancy.status != Pregnancy.ONGOING:
        messages.info(request, "这次孕情已经结束。")
        return redirect("precheck_staff:pregnancy-detail", pregnancy_id=pregnancy.pk)
    form = PregnancyEndForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            followups.pregnancy_end(
                actor=request.user,
                pregnancy=pregnancy,
                outcome=d["outcome"],
                outcome_date=d["outcome_date"],
                reason=d["reason"],
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已记录妊娠结局。")
            return redirect("precheck_staff:pregnancy-detail", pregnancy_id=pregnancy.pk)
    return _pregnancy_page(request, pregnancy, end_form=form)


@staff_required("precheck.health")
def pregnancy_create(request, registration_id):
    """记录怀孕 on a registration (a doctor, e.g. at a visit)."""
    reg = selectors.registration_get_for_actor(
        request.user, registration_id, write=request.method == "POST"
    )
    ongoing = reg.pregnancies.filter(status=Pregnancy.ONGOING).first()
    if ongoing is not None and request.method == "POST":
        messages.info(request, "这对夫妇已有进行中的孕情，如日期有误请在此修改末次月经日期。")
        return redirect("precheck_staff:pregnancy-detail", pregnancy_id=ongoing.pk)
    form = PregnancyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pregnancy = followups.pregnancy_record(
                actor=request.user, registration=reg, lmp=form.cleaned_data["lmp"]
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "已记录孕情，孕期保健短信已安排。")
            return redirect("precheck_staff:pregnancy-detail", pregnancy_id=pregnancy.pk)
    return render(
        request,
        "precheck/pregnancy_form.html",
        {"reg": reg, "form": form, "ongoing": ongoing},
    )
