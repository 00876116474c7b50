"""Staff API of the Rh-negative registry, mounted at /api/staff/rh/: every route answers 404
to a role without `rh.registry`."""

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["熊猫血友会"], auth=django_auth)
