from django import forms
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from sunshine.messaging import subscriptions, verification
from sunshine.places import rules, selectors
from sunshine.portal.context import CARE_COOKIE
from sunshine.publishing import selectors as publishing_selectors


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


BOARD_PAGE_SIZE = 20
BOARD_CACHE_SECONDS = 600


def board_cache_key(request, code: str) -> tuple[str, int]:
    """The board page's cache key: place, page, 关怀版, and the publication generation, which
    every publish, correction, withdrawal and answer bumps, so changes show at once everywhere."""
    page_no = request.GET.get("page", "1")
    page_no = int(page_no) if page_no.isdigit() else 1
    care = request.COOKIES.get(CARE_COOKIE) == "1"
    return f"board:{code}:{page_no}:{int(care)}:{publishing_selectors.generation()}", page_no


@require_GET
def place_board(request, code: str):
    """A place's board, rendered once per publication generation and cached whole (the
    BoardCacheMiddleware answers repeat requests before the rest of the middleware runs)."""
    key, page_no = board_cache_key(request, code)
    html = cache.get(key)
    if html is None:
        html = _render_board(request, code, page_no)
        cache.set(key, html, BOARD_CACHE_SECONDS)
    return HttpResponse(html)


def _render_board(request, code: str, page_no: int) -> str:
    place = selectors.place_get_public(code)
    ancestors = selectors.place_ancestors(place)
    children = list(selectors.place_children(place))
    groups = {
        "sub": [c for c in children if c.level not in (rules.UNIT, rules.RESIDENCE)],
        "units": [c for c in children if c.level == rules.UNIT],
        "residences": [c for c in children if c.level == rules.RESIDENCE],
    }
    items = Paginator(publishing_selectors.board_items(place, ancestors=ancestors), BOARD_PAGE_SIZE)
    return render_to_string(
        "portal/board.html",
        {
            "place": place,
            "ancestors": ancestors,
            "children": groups,
            "page": items.get_page(page_no),
            "now": timezone.now(),
            "contacts": list(selectors.contact_list_public(place)),
        },
        request=request,
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


class SubscribeForm(verification.CodeForm):
    """Two steps: the mobile asks for an SMS code, the code subscribes (or unsubscribes)."""

    mobile = forms.CharField(
        label="手机号码", max_length=20, error_messages={"required": "请填写手机号码。"}
    )
    action = forms.ChoiceField(
        choices=[("subscribe", "订阅"), ("unsubscribe", "取消订阅")],
        required=False,
        widget=forms.HiddenInput,
    )
    field_order = ["mobile", "code", "action"]

    def clean_action(self):
        return self.cleaned_data.get("action") or "subscribe"


SUBSCRIBE_WORDS = {"subscribe": "订阅", "unsubscribe": "取消订阅"}
SUBSCRIBE_DONE = {
    "subscribe": "订阅成功。本公示栏有新的公开事项时，会给您发一条短信。回复TD可退订。",
    "unsubscribe": "已取消订阅。",
}


@require_http_methods(["GET", "POST"])
def board_subscribe(request, code: str):
    """Ask for a short SMS whenever this board publishes something (or stop them): only for a
    mobile that brings back the code sent to it, so nobody can subscribe or unsubscribe
    another person's number."""
    from sunshine.core import publicforms
    from sunshine.core.errors import ServiceError

    place = selectors.place_get_public(code)
    guard = publicforms.Guard(request, publicforms.BOARD_SUBSCRIBE)
    form = SubscribeForm(request.POST or None)
    step = verification.step(request)
    done = note = None
    if guard.allows(form):
        action, mobile = form.cleaned_data["action"], form.cleaned_data["mobile"]
        purpose = f"board-{action}:{place.code}"
        try:
            if step == verification.SEND:
                what = f"{SUBSCRIBE_WORDS[action]}{place.name}公示栏短信"
                verification.code_send(mobile=mobile, purpose=purpose, what=what, ip=guard.ip)
                note = verification.code_sent_note(mobile)
            else:
                verification.code_check(
                    mobile=mobile, purpose=purpose, code=form.cleaned_data["code"]
                )
                if action == "unsubscribe":
                    subscriptions.unsubscribe(place=place, mobile=mobile)
                else:
                    subscriptions.subscribe(place=place, mobile=mobile, ip=guard.ip)
                done = SUBSCRIBE_DONE[action]
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return render(
        request,
        "portal/subscribe.html",
        {
            "place": place,
            "form": form,
            "guard": guard,
            "done": done,
            "note": note,
            "confirming": not done and verification.confirming(request, note),
            "action_words": SUBSCRIBE_WORDS.get(request.POST.get("action", ""), "订阅"),
        },
        status=400 if form.errors else 200,
    )
