"""Public pages of the publication pipeline: an item, its versions, objections, feeds."""

from django import forms
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.views.decorators.http import require_GET, require_http_methods

from sunshine.core import publicforms
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.core.identifiers import mask_text
from sunshine.places import selectors as place_selectors
from sunshine.publishing import posters, rules, selectors, services
from sunshine.publishing.models import Attachment


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label="异议内容和理由",
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=2000,
        error_messages={"required": "请写明异议的内容和理由。"},
    )
    name = forms.CharField(label="姓名（可不填）", required=False, max_length=50)
    phone = forms.CharField(
        label="联系电话（可不填，只有工作人员能看到）", required=False, max_length=20
    )


class LookupForm(forms.Form):
    code = forms.CharField(
        label="查询码", max_length=12, error_messages={"required": "请输入查询码。"}
    )


def _item_context(item, version):
    now = timezone.now()
    return {
        "item": item,
        "version": version,
        "now": now,
        "versions": list(selectors.item_versions_public(item)),
        "entries": list(version.entries.all()),
        "attachments": list(version.attachments.all()),
        "notice_open": item.is_notice
        and rules.notice_is_open(item.notice_ends_at, now)
        and item.status == rules.PUBLISHED,
        "objections": selectors.objection_counts(item) if item.is_notice else None,
        "ancestors": [*place_selectors.place_ancestors(item.place), item.place],
    }


@require_http_methods(["GET", "POST"])
def item_detail(request, public_id):
    item = selectors.item_get_public(public_id)
    guard = publicforms.Guard(request, publicforms.OBJECTION)
    form = ObjectionForm(request.POST or None)
    if guard.allows(form):
        try:
            objection = services.objection_file(item=item, ip=guard.ip, **form.cleaned_data)
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            return redirect("publishing:objection", tracking_code=objection.tracking_code)
    context = _item_context(item, item.current)
    context.update(form=form, guard=guard)
    return render(request, "publishing/item.html", context, status=400 if form.errors else 200)


@require_GET
def item_version(request, public_id, number):
    item = selectors.item_get_public(public_id)
    version = selectors.version_get_public(item, number)
    return render(
        request, "publishing/item.html", {**_item_context(item, version), "old_version": True}
    )


@require_GET
def attachment(request, attachment_id):
    try:
        att = Attachment.objects.select_related("version__item").get(
            pk=attachment_id,
            version__published_at__isnull=False,
            version__item__status__in=(rules.PUBLISHED, rules.ARCHIVED),
        )
    except Attachment.DoesNotExist:
        raise Http404("没有这个附件。") from None
    response = FileResponse(att.file.open("rb"), content_type=att.content_type)
    ext = att.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f"inline; filename=attachment-{att.pk}.{ext}"
    return response


@require_http_methods(["GET", "POST"])
def objection_lookup(request):
    form = LookupForm(request.POST or request.GET or None)
    if form.is_bound and form.is_valid():
        return redirect(
            "publishing:objection", tracking_code=form.cleaned_data["code"].strip().upper()
        )
    return render(request, "publishing/objection_lookup.html", {"form": form})


@require_GET
def objection_status(request, tracking_code):
    objection = selectors.objection_get_public(tracking_code)
    return render(
        request, "publishing/objection.html", {"objection": objection, "item": objection.item}
    )


@require_GET
def board_poster(request, code):
    place = place_selectors.place_get_public(code)
    size = "A3" if request.GET.get("size") == "A3" else "A4"
    data = posters.board_pdf(place, size=size, base_url=request.build_absolute_uri("/"))
    from django.http import HttpResponse

    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=poster-{place.code}-{size}.pdf"
    return response


class TextAtomFeed(Atom1Feed):
    """Atom with plain-text summaries (`type="text"`): Django marks them `type="html"`, so a
    feed reader would render markup a clerk typed into a summary or body."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


class BoardFeed(Feed):
    """Atom feed of a place's board."""

    feed_type = TextAtomFeed

    def get_object(self, request, code):
        return place_selectors.place_get_public(code)

    def title(self, place):
        return f"{place.display_name}公示栏 - {settings.SUNSHINE_SITE_NAME}"

    def link(self, place):
        return reverse("portal:board", args=[place.code])

    def subtitle(self, place):
        return f"{place.display_name}及上级发布到本级的公开事项"

    def items(self, place):
        return selectors.board_items(place)[:50]

    def item_title(self, item):
        prefix = f"[{item.category.name}] "
        return prefix + mask_text(item.current.title)[0]

    def item_description(self, item):
        # Masked before it is cut, so that a cut never leaves half a number to read.
        return mask_text(item.current.summary or item.current.body)[0][:200]

    def item_link(self, item):
        return reverse("publishing:item", args=[item.public_id])

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.current.published_at or item.published_at


@require_GET
def spokesperson(request):
    """Official statements of the online spokesperson (网络发言人)."""
    from django.core.paginator import Paginator

    items = Paginator(selectors.statements_public(), 20).get_page(request.GET.get("page"))
    return render(request, "publishing/spokesperson.html", {"page": items, "now": timezone.now()})
