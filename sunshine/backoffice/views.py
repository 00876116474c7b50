from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sunshine.accounts import selectors as account_selectors
from sunshine.accounts import services as account_services
from sunshine.accounts.access import export_start, staff_required, start_upload_job
from sunshine.backoffice import exports as backoffice_exports
from sunshine.backoffice import forms, selectors
from sunshine.core import audit, jobs
from sunshine.core.errors import ServiceError
from sunshine.places import selectors as place_selectors

PAGE_SIZE = 50


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


@staff_required("places.view")
def dashboard(request):
    user = request.user
    place = user.place
    return render(
        request,
        "backoffice/dashboard.html",
        {
            "place": place,
            "level_counts": place_selectors.place_level_counts(place) if place else {},
            "children": list(place_selectors.place_children(place)) if place else [],
            "recent": list(selectors.audit_search_for_actor(user)[:8])
            if user.can("audit.view")
            else [],
        },
    )


def _place_rows(request):
    return backoffice_exports.place_filtered(request.user, request.GET)


@staff_required("places.view")
def place_list(request):
    form, qs = _place_rows(request)
    template = "backoffice/_place_rows.html" if request.htmx else "backoffice/place_list.html"
    return render(request, template, {"form": form, "page": _page(request, qs)})


@staff_required("places.view")
def place_export_xlsx(request):
    return export_start(request, "backoffice.places", "xlsx")


@staff_required("places.view")
def place_export_csv(request):
    return export_start(request, "backoffice.places", "csv")


@staff_required("places.view")
def place_detail(request, place_code):
    place = place_selectors.place_get_for_actor(request.user, place_code)
    return render(
        request,
        "backoffice/place_detail.html",
        {
            "place": place,
            "ancestors": place_selectors.place_ancestors(place),
            "children": list(place_selectors.place_children(place)),
            "level_counts": place_selectors.place_level_counts(place),
            "staff": list(account_selectors.user_list_for_actor(request.user).filter(place=place)),
        },
    )


@staff_required("staff.view")
def user_list(request):
    qs = account_selectors.user_list_for_actor(request.user)
    return render(request, "backoffice/user_list.html", {"page": _page(request, qs)})


@staff_required("staff.view")
def user_detail(request, user_id):
    staff_user = account_selectors.user_get_for_actor(request.user, user_id)
    return render(
        request,
        "backoffice/user_detail.html",
        {
            "staff_user": staff_user,
            "two_factor": account_selectors.two_factor_status(staff_user),
        },
    )


@staff_required("staff.change")
@require_POST
def user_two_factor_reset(request, user_id):
    staff_user = account_selectors.user_get_for_actor(request.user, user_id)
    try:
        account_services.two_factor_reset(
            actor=request.user, user=staff_user, reason=request.POST.get("reason", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已重置{staff_user}的两步验证，对方下次登录时重新绑定验证器。")
    return redirect("backoffice:user-detail", user_id=staff_user.pk)


@staff_required("staff.change")
def lockout_list(request):
    return render(
        request,
        "backoffice/lockout_list.html",
        {
            "lockouts": account_selectors.lockout_list_for_actor(request.user),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
    )


@staff_required("staff.change")
@require_POST
def lockout_unlock(request, attempt_id):
    lockout = account_selectors.lockout_get_for_actor(request.user, attempt_id)
    try:
        account_services.lockout_release(
            actor=request.user, attempt=lockout.attempt, user=lockout.user
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"已解除{lockout.user}从 {lockout.attempt.ip_address} 登录的锁定。"
        )
    return redirect("backoffice:lockout-list")


def _audit_rows(request):
    return backoffice_exports.audit_filtered(request.user, request.GET)


@staff_required("audit.view")
def audit_list(request):
    form, qs = _audit_rows(request)
    template = "backoffice/_audit_rows.html" if request.htmx else "backoffice/audit_list.html"
    return render(request, template, {"form": form, "page": _page(request, qs)})


@staff_required("audit.view")
def audit_export_csv(request):
    return export_start(request, "backoffice.audit", "csv")


@staff_required("audit.view")
def audit_detail(request, audit_id):
    return render(
        request,
        "backoffice/audit_detail.html",
        {
            "entry": selectors.audit_get_for_actor(request.user, audit_id),
        },
    )


@staff_required("places.change")
def place_import(request):
    form = (
        forms.UploadForm(request.POST, request.FILES)
        if request.method == "POST"
        else forms.UploadForm()
    )
    if form.is_bound and form.is_valid():
        started = start_upload_job(request, form, kind="places.import", title="导入区划")
        if started is not None:
            return started
    return render(
        request,
        "backoffice/place_import.html",
        {
            "form": form,
            "recent": list(
                selectors.job_list_for_actor(request.user).filter(kind="places.import")[:10]
            ),
        },
    )


@staff_required("places.view")
def job_detail(request, job_id):
    job = jobs.job_interrupt_if_dead(selectors.job_get_for_actor(request.user, job_id))
    template = "backoffice/_job_status.html" if request.htmx else "backoffice/job_detail.html"
    return render(
        request,
        template,
        {
            "job": job,
            "progress": jobs.progress_get(job),
            "can_rerun": job.status == job.INTERRUPTED and job.created_by_id == request.user.pk,
        },
    )


@staff_required("places.view")
@require_POST
def job_rerun(request, job_id):
    job = selectors.job_get_for_actor(request.user, job_id)
    try:
        jobs.job_rerun(actor=request.user, job_id=job.pk)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已重新排队，本页会显示新的进度。")
    return redirect("backoffice:job-detail", job_id=job.pk)


@staff_required("places.view")
def job_result(request, job_id):
    job = selectors.job_get_for_actor(request.user, job_id)
    if not job.result_file:
        raise Http404("这个任务没有结果文件。")
    if job.kind == "core.export":
        # An export holds what its creator may see (full identifiers, for some roles): it is
        # theirs alone, and a file with full identifiers is audited each time it leaves.
        if job.created_by_id != request.user.pk:
            raise Http404("没有找到，或不在您的管辖范围内。")
        if job.result.get("sensitive"):
            audit.record(
                actor=request.user,
                action="job.download_identifiers",
                obj=job,
                sensitive=True,
                changes={"file": job.result.get("filename"), "count": job.result.get("total")},
            )
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result.get("filename") or job.result_file.name.rsplit("/", 1)[-1],
    )
