"""The one way to write the audit log. Services call `record`; sensitive reads call `record_read`."""

from django.db import models

from sunshine.core import context
from sunshine.core.models import AuditEntry


def _place_path_of(obj) -> str:
    if obj is None:
        return ""
    lookup = getattr(type(obj), "scope_path", None)
    if not lookup:
        return ""
    value = obj
    for part in lookup.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return ""
    return str(value)


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    place_path: str | None = None,
    changes: dict | None = None,
    reason: str = "",
    sensitive: bool = False,
    object_repr: str | None = None,
) -> AuditEntry:
    info = context.current()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry(
        actor=actor if is_user else None,
        actor_label=(actor.get_full_name() or actor.get_username()) if is_user else "系统",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(
            object_repr if object_repr is not None else str(obj) if obj is not None else ""
        )[:200],
        place_path=place_path if place_path is not None else _place_path_of(obj),
        sensitive=sensitive,
        reason=reason[:200],
        ip=info.ip,
        user_agent=info.user_agent,
        path=info.path,
        changes=changes or {},
    )
    entry.save()
    return entry


def record_read(*, actor, obj, fields: list[str], reason: str = "") -> AuditEntry:
    """A read of sensitive fields (health, Rh, full ID, reporter identity)."""
    return record(
        actor=actor,
        action=f"{obj._meta.model_name}.read_sensitive",
        obj=obj,
        changes={"fields": fields},
        reason=reason,
        sensitive=True,
    )


def diff(instance: models.Model, fields: list[str], before: dict) -> dict:
    """{field: [old, new]} for the fields that changed, as strings."""
    out = {}
    for name in fields:
        new = getattr(instance, name)
        new = getattr(new, "pk", new)
        old = before.get(name)
        if old != new:
            out[name] = [None if old is None else str(old), None if new is None else str(new)]
    return out


def snapshot(instance: models.Model, fields: list[str]) -> dict:
    return {
        name: getattr(getattr(instance, name), "pk", getattr(instance, name)) for name in fields
    }
