"""Reads that compose several apps for staff pages. Scoped through places.scoping."""

import datetime as dt

from django.db.models import QuerySet

from sunshine.core.models import AuditEntry
from sunshine.places import scoping


def audit_search_for_actor(
    actor,
    *,
    q: str = "",
    action: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    sensitive: bool = False,
) -> QuerySet[AuditEntry]:
    qs = scoping.scope(AuditEntry.objects.all(), actor)
    if q:
        from django.db.models import Q

        qs = qs.filter(
            Q(actor_label__contains=q) | Q(object_repr__contains=q) | Q(ip__startswith=q)
        )
    if action:
        qs = qs.filter(action__startswith=action)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    if sensitive:
        qs = qs.filter(sensitive=True)
    return qs.order_by("-at", "-id")


def audit_get_for_actor(actor, audit_id: int) -> AuditEntry:
    return scoping.get_for_actor(AuditEntry.objects.select_related("actor"), actor, pk=audit_id)


def job_get_for_actor(actor, job_id: int):
    from sunshine.core.models import Job

    return scoping.get_for_actor(Job.objects.select_related("created_by"), actor, pk=job_id)


def job_list_for_actor(actor):
    from sunshine.core.models import Job

    return scoping.scope(Job.objects.select_related("created_by"), actor).order_by(
        "-created_at", "-id"
    )
