from django.conf import settings

CARE_COOKIE = "care"


def site(request):
    """Facts every page shows: the site name, the hotline, and whether 关怀版 is on."""
    return {
        "site_name": settings.SUNSHINE_SITE_NAME,
        "site_hotline": settings.SUNSHINE_HOTLINE,
        "site_icp": settings.SUNSHINE_ICP,
        "care_mode": request.COOKIES.get(CARE_COOKIE) == "1",
    }


def capabilities(request):
    """The signed-in staff member's capabilities, for showing only the menus they may use."""
    from sunshine.accounts import roles

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return {"caps": frozenset()}
    if user.is_superuser:
        return {"caps": frozenset().union(*roles.CAPABILITIES.values())}
    return {"caps": roles.CAPABILITIES.get(user.role, frozenset())}
