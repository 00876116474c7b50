"""Permission checks for staff views: anonymous → login page; wrong role → 403 page."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def staff_required(capability: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.can(capability):
                raise PermissionDenied("您的角色不能使用这个功能。")
            return view(request, *args, **kwargs)

        wrapper.capability = capability
        return wrapper

    return decorator
