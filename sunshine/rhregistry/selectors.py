"""Every read of the registry, scoped to the actor, each writing its audit row: the registry
is sensitive as a whole (a name on it says "this person is RhD-negative")."""

from django.db.models import Count, QuerySet

from sunshine.core import audit
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.places.models import Place
from sunshine.rhregistry import rules
from sunshine.rhregistry.models import ContactRequest, Donor, Search


def _place_by_code(code: str) -> Place | None:
    return Place.objects.filter(code=(code or "").strip()).first() if code else None


def donor_list_for_actor(actor, *, abo: str = "", place_code: str = "") -> QuerySet[Donor]:
    """Active donors in scope (withdrawn ones never show). The caller audits the page it shows."""
    qs = scoping.scope(Donor.objects.select_related("place__parent"), actor).filter(is_active=True)
    if abo in rules.ABO_VALUES:
        qs = qs.filter(abo=abo)
    if place_code:
        place = _place_by_code(place_code)
        qs = qs.filter(place_path__startswith=place.path) if place else qs.none()
    return qs.order_by("place_path", "id")


def donor_list_audit(actor, *, what: str, count: int, filters: dict, ids: list[int]) -> None:
    audit.record(
        actor=actor,
        action=f"rhdonor.{what}",
        place_path=scoping.read_prefix(actor) or "",
        sensitive=True,
        object_repr="熊猫血志愿者名单",
        changes={"filters": filters, "count": count, "shown": ids},
    )


def donor_counts(actor) -> dict:
    """Active donors by ABO group, and the number of withdrawn registrations (a count only)."""
    qs = scoping.scope(Donor.objects.all(), actor)
    rows = qs.filter(is_active=True).values("abo").annotate(n=Count("id"))
    by_abo = {r["abo"]: r["n"] for r in rows}
    return {
        "rows": [(label, by_abo.get(code, 0)) for code, label in rules.ABO_CHOICES],
        "total": sum(by_abo.values()),
        "withdrawn": qs.filter(is_active=False).count(),
    }


DONOR_FIELDS = ["name", "abo", "rhd", "place"]
IDENTIFIERS = ["id_number", "mobile"]


def donor_get_for_actor(
    actor, donor_id: int, *, reason: str = "", fields: list[str] = DONOR_FIELDS
) -> Donor:
    """One active donor in scope (404 otherwise); the read of `fields` is audited, in one
    row (a reveal of the identifiers alone names only them)."""
    donor = scoping.get_for_actor(
        Donor.objects.select_related("place__parent", "registered_by"),
        actor,
        pk=donor_id,
        is_active=True,
    )
    audit.record_read(actor=actor, obj=donor, fields=fields, reason=reason)
    return donor


def donor_identifiers(donor: Donor) -> dict:
    """The full ID number and mobile of a donor read with IDENTIFIERS among its audited
    fields (donor_get_for_actor)."""
    return {"id_number": donor.id_number, "mobile": donor.mobile}


def search_get_for_actor(actor, search_id: int) -> Search:
    return scoping.get_for_actor(
        Search.objects.select_related("place", "near", "actor"), actor, pk=search_id
    )


def search_results(actor, search: Search) -> list[Donor]:
    """A search's donors as found, minus those withdrawn since or out of the actor's scope;
    showing them again is audited."""
    found = {
        d.pk: d
        for d in scoping.scope(Donor.objects.select_related("place__parent"), actor).filter(
            pk__in=search.donor_ids, is_active=True
        )
    }
    donors = [found[i] for i in search.donor_ids if i in found]
    audit.record(
        actor=actor,
        action="rhsearch.read",
        obj=search,
        sensitive=True,
        changes={"shown": [d.pk for d in donors]},
    )
    return donors


def search_list_for_actor(actor) -> QuerySet[Search]:
    return scoping.scope(Search.objects.select_related("place", "actor"), actor)


def request_list_for_actor(actor, *, status: str = "") -> QuerySet[ContactRequest]:
    qs = scoping.scope(
        ContactRequest.objects.select_related(
            "donor__place", "search", "requested_by", "confirmed_by", "cancelled_by"
        ),
        actor,
    )
    if status in dict(ContactRequest.STATUS_CHOICES):
        qs = qs.filter(status=status)
    return qs


def request_get_for_actor(actor, request_id: int) -> ContactRequest:
    return scoping.get_for_actor(
        ContactRequest.objects.select_related("donor", "search"), actor, pk=request_id
    )


SEARCH_LEVELS = (place_rules.COUNTY, place_rules.TOWN, place_rules.VILLAGE)


def place_choices_for_actor(actor, *, write: bool = False, levels=SEARCH_LEVELS) -> list:
    """(code, label) of the places in scope at the given levels, for a select."""
    qs = scoping.scope(Place.objects.filter(is_active=True, level__in=levels), actor, write=write)
    out = []
    for p in qs.order_by("path").only("code", "name", "level", "path"):
        indent = {"town": "　", "village": "　　"}.get(p.level, "")
        out.append((p.code, f"{indent}{p.name}"))
    return out


def village_choices_public() -> list:
    """Villages grouped by town, for the public registration form (no JavaScript needed)."""
    towns = {
        p.path: p.name
        for p in Place.objects.filter(level=place_rules.TOWN, is_active=True).only("path", "name")
    }
    groups: dict[str, list] = {}
    for p in (
        Place.objects.filter(level=place_rules.VILLAGE, is_active=True)
        .only("code", "name", "path")
        .order_by("path")
    ):
        groups.setdefault(towns.get(p.path[:9], "其他"), []).append((p.code, p.name))
    return list(groups.items())


def place_get(code: str, *, levels) -> Place | None:
    place = _place_by_code(code)
    return place if place is not None and place.level in levels and place.is_active else None
