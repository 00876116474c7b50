from django.db.models import QuerySet

from sunshine.accounts.models import User
from sunshine.places import scoping


def user_list_for_actor(actor) -> QuerySet[User]:
    return scoping.scope(User.objects.select_related("place"), actor).order_by(
        "place__path", "username"
    )


def user_get_for_actor(actor, user_id: int) -> User:
    return scoping.get_for_actor(
        User.objects.select_related("place", "view_place"), actor, pk=user_id
    )
