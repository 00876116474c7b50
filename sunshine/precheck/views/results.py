"""Pages of results, risk assessment and counselling (clinic doctors, precheck.health)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sunshine.accounts.access import staff_required
from sunshine.core.errors import ServiceError
from sunshine.precheck import health, rules, selectors
from sunshine.precheck import results as services
from sunshine.precheck.models import CheckItem

SUBJECTS = (rules.WOMAN, rules.MAN)


def _grid(items, record, post=None, errors=None):
    """Rows of the entry grid: one per item, a cell per partner (None where it does not apply),
    holding what was posted (after a refusal) or what is saved."""
    saved, errors = record.by_key, errors or {}
    rows = []
    for item in items:
        cells = []
        for subject in SUBJECTS:
            if not item.applies(subject):
                cells.append(None)
                continue
            key = services.entry_key(item, subject)
            r = saved.get((item.code, subject))
            cell = {
                "key": key,
                "name": f"{item.code}-{subject}",
                "subject": subject,
                "value": r.value if r else "",
                "abnormal": r.is_abnormal if r else None,
                "note": r.note if r else "",
                "error": errors.get(key, ""),
                "saved": r is not None,
            }
            if post is not None:
                e = _entry(item, subject, post)
                cell.update(value=e.value, abnormal=e.is_abnormal, note=e.note)
            cells.append(cell)
        rows.append({"item": item, "range": rules.range_label(item), "cells": cells})
    return rows


def _entry(item, subject, post) -> services.Entry:
    name = f"{item.code}-{subject}"
    value = post.get(f"v-{name}", "").strip()
    note = post.get(f"n-{name}", "").strip()
    if item.result_type == CheckItem.FLAG:
        flag = {"0": False, "1": True}.get(post.get(f"f-{name}", ""))
        return services.Entry(item, subject, "", flag, note)
    if item.result_type == CheckItem.VALUE or item.code == rules.BLOOD_TYPE:
        return services.Entry(item, subject, value, None, note)
    return services.Entry(item, subject, value, post.get(f"a-{name}") == "1", note)


def _preview(record, items):
    """What the rules say about the saved results: (missing, level, reasons)."""
    gaps = rules.missing(record.results, items)
    if gaps:
        return gaps, None, []
    level, reasons = rules.assess(record.results, items)
    return [], level, reasons


def _page(request, registration, *, status=200, post=None, errors=None, **extra):
    record = health.health_record(request.user, registration)
    items = health.result_items()
    gaps, level, reasons = _preview(record, items)
    context = {
        "registration": registration,
        "record": record,
        "rows": _grid(items, record, post, errors),
        "missing": rules.missing_label(gaps),
        "missing_count": len(gaps),
        "level": level,
        "level_label": rules.LEVEL_LABEL.get(level, ""),
        "reasons": reasons,
        "level_choices": [(k, v) for k, v in rules.LEVEL_LABEL.items()],
        "can_enter": registration.status in services.ENTRY_STATUSES,
        "can_assess": registration.status in services.ASSESS_STATUSES and not gaps,
        "can_counsel": registration.status in services.COUNSEL_STATUSES,
        **extra,
    }
    return render(request, "precheck/results_entry.html", context, status=status)


@staff_required("precheck.health")
def results_worklist(request):
    page = Paginator(health.worklist_for_actor(request.user), 50).get_page(request.GET.get("page"))
    health.worklist_audit(request.user, page.object_list)
    return render(request, "precheck/results_worklist.html", {"page": page})


@staff_required("precheck.health")
def results_entry(request, registration_id):
    write = request.method == "POST"
    registration = selectors.registration_get_for_actor(request.user, registration_id, write=write)
    if not write:
        return _page(request, registration)
    entries = [
        _entry(item, subject, request.POST)
        for item in health.result_items()
        for subject in SUBJECTS
        if item.applies(subject)
    ]
    try:
        saved = services.results_save_many(
            actor=request.user, registration=registration, entries=entries
        )
    except ServiceError as exc:
        errors = dict(exc.errors)
        return _page(
            request,
            registration,
            post=request.POST,
            errors=errors,
            results_error="检查结果有误，全部未保存：" if errors else exc.message,
            results_errors=[m for _, m in exc.errors],
        )
    messages.success(request, f"已保存 {len(saved)} 项检查结果。" if saved else "结果没有变化。")
    return redirect("precheck_staff:results-entry", registration_id=registration.pk)


@staff_required("precheck.health")
@require_POST
def results_assess(request, registration_id):
    registration = selectors.registration_get_for_actor(request.user, registration_id, write=True)
    try:
        services.assessment_make(
            actor=request.user,
            registration=registration,
            advice=request.POST.get("advice", ""),
            level_override=request.POST.get("level_override") or None,
            override_reason=request.POST.get("override_reason", ""),
        )
    except ServiceError as exc:
        return _page(request, registration, assess_error=exc.message, assess_post=request.POST)
    messages.success(request, "评估已完成；结果告知短信（或电话任务）已安排。")
    return redirect("precheck_staff:results-entry", registration_id=registration.pk)


@staff_required("precheck.health")
@require_POST
def results_counselling(request, registration_id):
    registration = selectors.registration_get_for_actor(request.user, registration_id, write=True)
    try:
        services.counselling_add(
            actor=request.user, registration=registration, advice=request.POST.get("advice", "")
        )
    except ServiceError as exc:
        return _page(request, registration, counsel_error=exc.message, counsel_post=request.POST)
    messages.success(request, "咨询指导记录已保存。")
    return redirect("precheck_staff:results-entry", registration_id=registration.pk)
