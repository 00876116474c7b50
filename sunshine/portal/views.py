from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from sunshine.places import rules, selectors
from sunshine.portal.context import CARE_COOKIE


@require_GET
def home(request):
    counties = list(selectors.place_root_list())
    county = counties[0] if len(counties) == 1 else None
    towns = list(selectors.place_children(county)) if county else []
    return render(
        request,
        "portal/home.html",
        {
            "counties": counties,
            "county": county,
            "towns": towns,
            "contacts": list(selectors.contact_list_public(county))[:6] if county else [],
        },
    )


@require_GET
def place_board(request, code: str):
    place = selectors.place_get_public(code)
    children = list(selectors.place_children(place))
    groups = {
        "sub": [c for c in children if c.level not in (rules.UNIT, rules.RESIDENCE)],
        "units": [c for c in children if c.level == rules.UNIT],
        "residences": [c for c in children if c.level == rules.RESIDENCE],
    }
    return render(
        request,
        "portal/board.html",
        {
            "place": place,
            "ancestors": selectors.place_ancestors(place),
            "children": groups,
            "items": [],  # filled by the disclosure module (publishing)
            "contacts": list(selectors.contact_list_public(place)),
        },
    )


@require_GET
def contacts(request):
    code = request.GET.get("place", "")
    place = selectors.place_get_public(code) if code else None
    if place is None:
        counties = list(selectors.place_root_list())
        place = counties[0] if len(counties) == 1 else None
    rows = list(selectors.contact_list_public(place)) if place else []
    return render(
        request,
        "portal/contacts.html",
        {
            "place": place,
            "offices": [c for c in rows if c.kind == "office"],
            "hotlines": [c for c in rows if c.kind == "hotline"],
        },
    )


@require_GET
def care_toggle(request):
    """关怀版 switch: a plain link that sets a cookie, so it works without JavaScript."""
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = redirect(target)
    if request.GET.get("on") == "1":
        response.set_cookie(CARE_COOKIE, "1", max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(CARE_COOKIE)
    return response
