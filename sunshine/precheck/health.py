"""Selectors of a couple's health data (results, assessment, counselling): scoped to the actor,
and every read writes audit.record_read (PIPL: health data is sensitive; SPEC §0.2)."""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q, QuerySet

from sunshine.core import audit
from sunshine.places import scoping
from sunshine.precheck import rules
from sunshine.precheck.models import Assessment, CheckItem, Counselling, Registration, Result


def result_items() -> list[CheckItem]:
    """The active catalogue items that take a result (not 18 and 19), in catalogue order."""
    return [i for i in CheckItem.objects.filter(is_active=True) if rules.is_result_item(i)]


@dataclass
class HealthRecord:
    registration: Registration
    results: list[Result] = field(default_factory=list)
    assessment: Assessment | None = None
    counsellings: list[Counselling] = field(default_factory=list)

    @property
    def by_key(self) -> dict[tuple[str, str], Result]:
        return {(r.item.code, r.subject): r for r in self.results}

    @property
    def stale(self) -> bool:
        """Results changed after the assessment: the doctor should assess again."""
        a = self.assessment
        return a is not None and any(r.entered_at > a.assessed_at for r in self.results)


def health_record(actor, registration: Registration, *, reason: str = "") -> HealthRecord:
    """Results, assessment and counselling records of a couple in the actor's scope; one
    audit row per read."""
    if not scoping.path_in_scope(actor, registration.place_path):
        from django.http import Http404

        raise Http404("没有找到，或不在您的管辖范围内。")
    record = HealthRecord(
        registration=registration,
        results=list(
            Result.objects.filter(registration=registration).select_related("item", "entered_by")
        ),
        assessment=Assessment.objects.filter(registration=registration)
        .select_related("assessed_by")
        .first(),
        counsellings=list(
            Counselling.objects.filter(registration=registration).select_related("counselled_by")
        ),
    )
    audit.record_read(
        actor=actor,
        obj=registration,
        fields=["results", "assessment", "counselling"],
        reason=reason or "查看检查结果",
    )
    return record


def results_list(actor, registration: Registration, *, reason: str = "") -> list[Result]:
    """The couple's results (for the API); audited."""
    return health_record(actor, registration, reason=reason or "接口读取检查结果").results


def worklist_for_actor(actor) -> QuerySet[Registration]:
    """Couples in scope awaiting the doctor: checked but not assessed, or assessed with
    counselling needed and no counselling record yet. Lazy: the page audits what it shows."""
    counselled = Counselling.objects.filter(registration=OuterRef("pk"))
    qs = scoping.scope(Registration.objects.all(), actor)
    return (
        qs.annotate(counselled=Exists(counselled))
        .filter(
            Q(status=Registration.CHECKED, assessment__isnull=True)
            | Q(
                status__in=(Registration.ASSESSED, Registration.PREGNANT),
                assessment__level__in=(rules.COUNSEL, rules.HIGH),
                counselled=False,
            )
        )
        .select_related("place__parent", "assessment")
        .order_by("updated_at", "id")
    )


def worklist_audit(actor, rows) -> None:
    """One audit row for a page of the worklist (it shows who needs counselling)."""
    if rows:
        audit.record(
            actor=actor,
            action="registration.read_sensitive",
            place_path=scoping.read_prefix(actor) or "",
            sensitive=True,
            reason="结果待办列表",
            changes={"fields": ["assessment.level"], "ids": [r.pk for r in rows]},
        )
