"""Staff API of 好孕好运, mounted at /api/staff/precheck/ (session login, scoped selectors)."""

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["好孕好运"], auth=django_auth)
