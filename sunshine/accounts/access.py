"""Permission checks for staff views: anonymous → login page; wrong role → 403 page."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404


def staff_required(capability: str, *, hidden: bool = False):
    """`hidden=True`: a role without the capability gets 404, not 403 — for pages whose very
    existence is confidential (the Rh-negative registry)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.can(capability):
                if hidden:
                    raise Http404("没有找到，或不在您的管辖范围内。")
                raise PermissionDenied("您的角色不能使用这个功能。")
            return view(request, *args, **kwargs)

        wrapper.capability = capability
        wrapper.hidden = hidden
        return wrapper

    return decorator


def start_upload_job(request, form, *, kind: str, title: str, options: dict | None = None):
    """A valid upload form → a background job at the user's own place; the job page to go to,
    or None with the refusal added to the form."""
    from django.shortcuts import redirect

    from sunshine.core import jobs
    from sunshine.core.errors import ServiceError
    from sunshine.places import scoping

    upload = form.cleaned_data["file"]
    try:
        job = jobs.job_create(
            actor=request.user,
            kind=kind,
            title=f"{title}：{upload.name}",
            place_path=scoping.write_prefix(request.user) or "",
            upload=upload,
            options=options,
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return None
    return redirect("backoffice:job-detail", job_id=job.pk)


def export_start(request, source: str, fmt: str):
    """An export the user asked for: its audit row now (who, from where, which filter); the
    file at once when it is small, else a background job and its page, where the file is
    offered to this user when written (core.exports)."""
    from django.conf import settings
    from django.shortcuts import redirect

    from sunshine.core import audit, exports, jobs
    from sunshine.places import scoping

    src = exports.source_get(source)
    table = src.build(request.user, request.GET)
    if table.audit is not None:
        audit.record(actor=request.user, **table.audit)
    if table.count is not None and table.count <= settings.SUNSHINE_EXPORT_INLINE_ROWS:
        return exports.table_response(src, table, fmt)
    job = jobs.job_create(
        actor=request.user,
        kind="core.export",
        title=f"导出{src.filename}（.{fmt}）",
        place_path=scoping.read_prefix(request.user) or "",
        options={"source": source, "format": fmt, "query": request.GET.urlencode()},
    )
    return redirect("backoffice:job-detail", job_id=job.pk)
