"""Staff pages of the publication pipeline (SPEC §0.3, §1): items from draft through review,
publication, correction and withdrawal; notice lists, attachments, objections, posters and
categories. Every read goes through a scoped selector, every write through a service; route
scoping and the role matrix are proven in tests/test_scope_matrix.py."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sunshine.accounts.access import export_start, staff_required
from sunshine.core import identifiers, jobs
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.core.masking import mask_id_number, mask_name
from sunshine.people import selectors as people_selectors
from sunshine.places import rules as place_rules
from sunshine.places import scoping
from sunshine.places import selectors as place_selectors
from sunshine.publishing import exports as publishing_exports
from sunshine.publishing import forms, posters, rules, selectors, services

try:  # the PDF layer is written alongside; the press-copy links appear once it is there
    from sunshine.publishing import pdf
except ImportError:  # pragma: no cover
    pdf = None

PAGE_SIZE = 50
TOKENS_KEY = "publishing_item_tokens"
TOKENS_KEPT = 20
PRESS_COLUMN = "阳光计生专栏"
ACTION_LABELS = {
    "item.create": "起草",
    "item.update": "修改草稿",
    "item.submit": "提交审核",
    "item.return": "退回修改",
    "item.schedule": "审核通过，定时发布",
    "item.publish": "审核发布",
    "item.publish_scheduled": "到时自动发布",
    "item.mask": "发布前自动隐去身份证号码、手机号码",
    "item.correct": "发布更正",
    "item.withdraw": "撤回",
    "item.archive": "归档",
    "item.expire": "到期自动下架",
    "item.finalise": "公示办结",
    "item.entry_add": "添加名单",
    "item.attachment_add": "上传附件",
    "item.read_sensitive": "查看完整名单（敏感信息）",
}


def press_available() -> bool:
    return pdf is not None and hasattr(pdf, "press_copy_text") and hasattr(pdf, "press_copy_pdf")


def _refused(request, item, form, form_name: str, exc: ServiceError):
    """The item page again: a refusal about a field next to it, any other at the top (the
    form may not even be shown once the item has moved on)."""
    if exc.field in form.fields:
        form.add_error(exc.field, exc.message)
        return _detail(request, item, **{form_name: form})
    return _detail(request, item, error=exc.message, **{form_name: form})


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _place_choices(actor, *, write: bool = True, levels=place_rules.PUBLICATION_LEVELS):
    """Publication places a form may offer: for a county user the county and its towns, for a
    town or village user everything under it (a few hundred at most)."""
    home = actor.place if write else (actor.view_place or actor.place)
    if home is None or home.level in (place_rules.PROVINCE, place_rules.CITY, place_rules.COUNTY):
        levels = [lv for lv in levels if lv in (place_rules.COUNTY, place_rules.TOWN)]
    return place_selectors.place_list_for_actor(actor, write=write).filter(
        level__in=levels, is_active=True
    )


# Items: list and export ------------------------------------------------------------------


def _item_rows(request):
    return publishing_exports.item_filtered(request.user, request.GET)


@staff_required("publishing.view")
def item_list(request):
    form, qs = _item_rows(request)
    template = (
        "publishing/staff/_item_rows.html" if request.htmx else "publishing/staff/item_list.html"
    )
    return render(request, template, {"form": form, "page": _page(request, qs)})


EXPORT_HEADERS = publishing_exports.HEADERS


@staff_required("publishing.view")
def item_export_xlsx(request):
    return export_start(request, "publishing.items", "xlsx")


@staff_required("publishing.view")
def item_export_csv(request):
    return export_start(request, "publishing.items", "csv")


# Items: create and edit ------------------------------------------------------------------


def _token_lookup(request, token: str) -> int | None:
    """The item a form token already created, so that a second submit changes nothing."""
    return request.session.get(TOKENS_KEY, {}).get(token) if token else None


def _token_spend(request, token: str, item_id: int) -> None:
    used = request.session.get(TOKENS_KEY, {})
    used[token] = item_id
    request.session[TOKENS_KEY] = dict(list(used.items())[-TOKENS_KEPT:])


def _form_kwargs(request, item=None) -> dict:
    categories = selectors.category_list()
    return {
        "places": _place_choices(request.user),
        "categories": categories,
        "item": item,
    }


@staff_required("publishing.draft")
def item_create(request):
    if request.method != "POST":
        user_place = request.user.place
        initial = {
            "place": request.GET.get("place") or (user_place.code if user_place else None),
            "category": request.GET.get("category"),
            "token": secrets.token_urlsafe(16),
        }
        form = forms.ItemForm(initial=initial, **_form_kwargs(request))
        return render(request, "publishing/staff/item_form.html", {"form": form})
    form = forms.ItemForm(request.POST, **_form_kwargs(request))
    if "preview" in request.POST:
        return _preview(request, form)
    token = request.POST.get("token", "")[:64]
    done = _token_lookup(request, token)
    lock = f"publishing:item-token:{request.user.pk}:{token}"
    if done is None and token and not cache.add(lock, 1, timeout=60):
        done = 0  # the same form is being saved by a request still running
    if done is not None:
        messages.info(request, "这份表单已经提交过，没有重复创建。")
        return (
            redirect("publishing:staff-item-detail", item_id=done)
            if done
            else redirect("publishing:staff-item-list")
        )
    try:
        if form.is_valid():
            d = form.cleaned_data
            try:
                item = services.item_create(
                    actor=request.user,
                    category=d["category"],
                    place=d["place"],
                    title=d["title"],
                    summary=d["summary"],
                    body=d["body"],
                    table=d["table"],
                    levels=d["levels"],
                    kind=d["kind"] or None,
                    spokesperson=d["spokesperson"],
                    publish_at=d["publish_at"],
                    expires_at=d["expires_at"],
                )
            except ServiceError as exc:
                form_add_error(form, exc)
            else:
                if token:
                    _token_spend(request, token, item.pk)
                messages.success(
                    request, "草稿已保存。" + _masked_message(item) + "核对无误后请“提交审核”。"
                )
                return redirect("publishing:staff-item-detail", item_id=item.pk)
    finally:
        if token:
            cache.delete(lock)
    return render(request, "publishing/staff/item_form.html", {"form": form})


def _preview(request, form, item=None):
    """The form again with what the public would see of it, masked, nothing saved."""
    preview = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            preview = services.item_preview(
                title=d["title"],
                summary=d["summary"],
                body=d["body"],
                table=d["table"],
                spokesperson=d.get("spokesperson") or "",
            )
        except ServiceError as exc:
            form_add_error(form, exc)
    return render(
        request,
        "publishing/staff/item_form.html",
        {"form": form, "item": item, "preview": preview},
    )


def _editable(request, item) -> bool:
    return (
        item.status == rules.DRAFT
        and request.user.can("publishing.draft")
        and scoping.path_in_scope(request.user, item.place_path, write=True)
    )


@staff_required("publishing.draft")
def item_edit(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    if not _editable(request, item):
        messages.error(
            request, "只有您管辖范围内的草稿可以修改；已提交或已发布的事项请走审核或更正。"
        )
        return redirect("publishing:staff-item-detail", item_id=item.pk)
    version = item.current
    initial = {
        "category": item.category.code,
        "place": item.place.code,
        "kind": item.kind,
        "spokesperson": item.spokesperson,
        "title": version.title,
        "summary": version.summary,
        "body": version.body,
        "table": forms.table_as_text(version.table),
        "levels": item.levels,
        "publish_at": item.publish_at,
        "expires_at": item.expires_at,
    }
    form = forms.ItemForm(request.POST or None, initial=initial, **_form_kwargs(request, item))
    if "preview" in request.POST:
        return _preview(request, form, item)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.item_update_draft(
                actor=request.user,
                item=item,
                title=d["title"],
                summary=d["summary"],
                body=d["body"],
                table=d["table"],
                levels=d["levels"],
                publish_at=d["publish_at"],
                expires_at=d["expires_at"],
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "草稿已保存。" + _masked_message(item))
            return redirect("publishing:staff-item-detail", item_id=item.pk)
    return render(request, "publishing/staff/item_form.html", {"form": form, "item": item})


def _masked_message(item) -> str:
    counts = identifiers.describe(identifiers.count_masked(item.current.table))
    return f"已自动隐去表格中 {counts} 的部分数字，公众只看到打码后的号码。" if counts else ""


# Items: detail and actions ---------------------------------------------------------------


def _history(item) -> list[dict]:
    return [
        {"entry": e, "label": ACTION_LABELS.get(e.action, e.action)}
        for e in selectors.item_history(item)
    ]


def _detail_context(request, item, **forms_given) -> dict:
    user, version, now = request.user, item.current, timezone.now()
    in_write_scope = scoping.path_in_scope(user, item.place_path, write=True)
    counts = selectors.objection_counts(item) if item.is_notice else None
    is_author = item.created_by_id == user.pk and not user.is_superuser
    notice_live = item.is_notice and item.status == rules.PUBLISHED and item.finalised_at is None
    context = {
        "item": item,
        "version": version,
        "versions": list(selectors.item_versions_staff(item)),
        "entries": list(version.entries.all()),
        "attachments": list(version.attachments.all()),
        "history": _history(item),
        "objections": list(item.objections.select_related("answered_by")) if counts else [],
        "counts": counts,
        "level_labels": [place_rules.LEVEL_LABELS[lv] for lv in item.levels],
        "can_edit": _editable(request, item),
        "can_review": item.status == rules.REVIEW and user.can("publishing.review"),
        "is_author": is_author,
        "can_withdraw": item.status == rules.PUBLISHED and user.can("publishing.review"),
        "can_archive": item.status in (rules.PUBLISHED, rules.WITHDRAWN)
        and user.can("publishing.review"),
        "can_correct": item.status == rules.PUBLISHED and user.can("publishing.review"),
        "can_finalise": notice_live and user.can("publishing.answer"),
        "finalise_reason": rules.can_finalise(
            ends_at=timezone.localtime(item.notice_ends_at) if item.notice_ends_at else None,
            now=now,
            open_objections=counts["open"],
        )
        if notice_live and counts
        else None,
        "can_reveal": user.can("people.identifiers"),
        "can_change_lists": version.published_at is None
        and item.status == rules.DRAFT
        and user.can("publishing.draft")
        and in_write_scope,
        "press": press_available(),
        "masked": identifiers.describe(identifiers.count_masked(version.table)),
        "public_url": item.status in (rules.PUBLISHED, rules.ARCHIVED),
        "return_form": forms.return_form(),
        "withdraw_form": forms.withdraw_form(),
        "finalise_form": forms.finalise_form(),
        "entry_form": forms.EntryForm(),
        "attachment_form": forms.AttachmentForm(),
    }
    context.update(forms_given)
    return context


def _detail(request, item, *, error: str = "", **forms_given):
    context = _detail_context(request, item, **forms_given)
    context["error"] = error
    return render(request, "publishing/staff/item_detail.html", context)


@staff_required("publishing.view")
def item_detail(request, item_id):
    return _detail(request, selectors.item_get_for_actor(request.user, item_id))


def _act(request, item_id, call, success: str, form=None, form_name: str = ""):
    """Run one service on the item: back to the page with a message, or the page again with
    the refusal (and what the clerk typed) when the service says no."""
    item = selectors.item_get_for_actor(request.user, item_id)
    if form is not None and not form.is_valid():
        return _detail(request, item, **{form_name: form})
    try:
        call(item)
    except ServiceError as exc:
        if form is None:
            return _detail(request, item, error=exc.message)
        return _refused(request, item, form, form_name, exc)
    messages.success(request, success)
    return redirect("publishing:staff-item-detail", item_id=item.pk)


@staff_required("publishing.draft")
@require_POST
def item_submit(request, item_id):
    return _act(
        request,
        item_id,
        lambda item: services.item_submit(actor=request.user, item=item),
        "已提交审核，等待县局审核发布。",
    )


@staff_required("publishing.review")
@require_POST
def item_return(request, item_id):
    form = forms.return_form(request.POST)
    return _act(
        request,
        item_id,
        lambda item: services.item_return(actor=request.user, item=item, note=form.value),
        "已退回起草人修改。",
        form,
        "return_form",
    )


@staff_required("publishing.review")
@require_POST
def item_publish(request, item_id):
    def publish(item):
        item = services.item_publish(actor=request.user, item=item)
        if item.status == rules.SCHEDULED:
            when = timezone.localtime(item.publish_at)
            messages.success(request, f"审核通过，将于 {when:%Y-%m-%d %H:%M} 自动发布。")

    return _act(request, item_id, publish, "已发布，各层级公示栏已同步。")


@staff_required("publishing.review")
@require_POST
def item_withdraw(request, item_id):
    form = forms.withdraw_form(request.POST)
    return _act(
        request,
        item_id,
        lambda item: services.item_withdraw(actor=request.user, item=item, reason=form.value),
        "已撤回，公示栏不再显示。",
        form,
        "withdraw_form",
    )


@staff_required("publishing.review")
@require_POST
def item_archive(request, item_id):
    return _act(
        request,
        item_id,
        lambda item: services.item_archive(actor=request.user, item=item),
        "已归档。",
    )


@staff_required("publishing.answer")
@require_POST
def item_finalise(request, item_id):
    form = forms.finalise_form(request.POST)
    return _act(
        request,
        item_id,
        lambda item: services.notice_finalise(actor=request.user, item=item, outcome=form.value),
        "公示已办结，结果已公布。",
        form,
        "finalise_form",
    )


@staff_required("publishing.review")
def item_correct(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    if item.status != rules.PUBLISHED:
        messages.error(request, "只有已发布的事项可以更正。")
        return redirect("publishing:staff-item-detail", item_id=item.pk)
    v = item.current
    initial = {
        "title": v.title,
        "summary": v.summary,
        "body": v.body,
        "table": forms.table_as_text(v.table),
    }
    form = forms.CorrectionForm(request.POST or None, initial=initial)
    context = {"form": form, "item": item, "preview_verb": "发布"}
    if "preview" in request.POST and form.is_valid():
        try:
            context["preview"] = services.item_preview(**form.cleaned_data)
        except ServiceError as exc:
            form_add_error(form, exc)
        return render(request, "publishing/staff/item_correct.html", context)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.item_correct(actor=request.user, item=item, **form.cleaned_data)
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(
                request, f"更正已发布（第{version.number}版），原版本保留在版本记录中。"
            )
            return redirect("publishing:staff-item-detail", item_id=item.pk)
    return render(request, "publishing/staff/item_correct.html", context)


@staff_required("publishing.draft")
@require_POST
def item_entry_add(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    form = forms.EntryForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        resident = None
        if d["id_number"]:
            resident = people_selectors.resident_list_for_actor(
                request.user, q=d["id_number"]
            ).first()
        try:
            entry = services.entry_add(
                actor=request.user,
                item=item,
                name=d["name"],
                id_number=d["id_number"],
                place_name=d["place_name"],
                matter=d["matter"],
                resident=resident,
            )
        except ServiceError as exc:
            return _refused(request, item, form, "entry_form", exc)
        else:
            found = "（已从居民登记中带出）" if resident else ""
            messages.success(request, f"已把 {mask_name(entry.name)} 加入名单{found}。")
            return redirect("publishing:staff-item-detail", item_id=item.pk)
    return _detail(request, item, entry_form=form)


@staff_required("people.identifiers")
@require_POST
def item_entry_identifiers(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    entries = selectors.entry_identifiers(request.user, item.current)
    if request.htmx:
        return render(
            request, "publishing/staff/_entries.html", {"entries": entries, "revealed": True}
        )
    return _detail(request, item, entries=entries, revealed=True)


@staff_required("publishing.draft")
@require_POST
def item_attachment_add(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                actor=request.user,
                item=item,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except ServiceError as exc:
            return _refused(request, item, form, "attachment_form", exc)
        else:
            messages.success(request, "附件已上传。")
            return redirect("publishing:staff-item-detail", item_id=item.pk)
    return _detail(request, item, attachment_form=form)


@staff_required("publishing.view")
def attachment_file(request, attachment_id):
    att = selectors.attachment_get_for_actor(request.user, attachment_id)
    response = FileResponse(att.file.open("rb"), content_type=att.content_type)
    ext = att.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f"inline; filename=attachment-{att.pk}.{ext}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Print and press ------------------------------------------------------------------------


def _size(request) -> str:
    return "A3" if request.GET.get("size") == "A3" else "A4"


@staff_required("publishing.view")
def item_poster(request, item_id):
    """The board of the item's place as a print poster (what is published there now)."""
    item = selectors.item_get_for_actor(request.user, item_id)
    size = _size(request)
    response = HttpResponse(
        posters.board_pdf(item.place, size=size), content_type="application/pdf"
    )
    response["Content-Disposition"] = f"inline; filename=poster-{item.place.code}-{size}.pdf"
    return response


def _press_args(item) -> dict:
    v = item.current
    parts = [v.summary, v.body]
    if v.table.get("headers"):
        parts.append("\n".join("　".join(row) for row in [v.table["headers"], *v.table["rows"]]))
    entries = list(v.entries.all())
    if entries:
        parts.append(
            "\n".join(
                "　".join(
                    x
                    for x in (
                        mask_name(e.name),
                        mask_id_number(e.id_number),
                        e.place_name,
                        e.matter,
                    )
                    if x
                )
                for e in entries
            )
        )
    if item.is_notice and item.notice_ends_at:
        ends = timezone.localtime(item.notice_ends_at)
        parts.append(
            f"公示期至{ends:%Y年%m月%d日}。如有异议，请在公示期内通过网站或短信提出，"
            f"或拨打监督电话{settings.SUNSHINE_HOTLINE}。"
        )
    when = timezone.localtime(item.published_at or timezone.now()).date()
    return {  # masked again here: press copy is public output, whatever the stored text holds
        "title": identifiers.mask_text(v.title)[0],
        "body": identifiers.mask_text("\n".join(p for p in parts if p))[0],
        "column": PRESS_COLUMN,
        "date": when,
        "source": item.place.display_name,
    }


@staff_required("publishing.view")
def item_press_text(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    if not press_available():
        raise Http404("新闻稿功能尚未启用。")
    text = pdf.press_copy_text(**_press_args(item))
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f"inline; filename=press-{item.public_id}.txt"
    return response


@staff_required("publishing.view")
def item_press_pdf(request, item_id):
    item = selectors.item_get_for_actor(request.user, item_id)
    if not press_available():
        raise Http404("新闻稿功能尚未启用。")
    response = HttpResponse(pdf.press_copy_pdf(**_press_args(item)), content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename=press-{item.public_id}.pdf"
    return response


@staff_required("publishing.view")
def poster_batch(request):
    places = _place_choices(
        request.user,
        write=False,
        levels=(place_rules.COUNTY, place_rules.TOWN, place_rules.VILLAGE),
    )
    home = request.user.view_place or request.user.place
    form = forms.PosterForm(
        request.POST or None,
        places=places,
        initial={"place": home.code if home else None, "size": "A4"},
    )
    if request.method == "POST" and form.is_valid():
        place, size = form.cleaned_data["place"], form.cleaned_data["size"]
        try:
            job = jobs.job_create(
                actor=request.user,
                kind="publishing.posters",
                title=f"公示栏海报：{place.display_name}（{size}）",
                place_path=place.path,
                options={"place": place.code, "size": size, "base_url": settings.SUNSHINE_BASE_URL},
            )
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            return redirect("backoffice:job-detail", job_id=job.pk)
    return render(request, "publishing/staff/poster_batch.html", {"form": form})


# Review queue ---------------------------------------------------------------------------


@staff_required("publishing.review")
def review_queue(request):
    return render(
        request,
        "publishing/staff/review_queue.html",
        {
            "queue": list(selectors.review_queue_for_actor(request.user)[:200]),
            "scheduled": list(
                selectors.item_list_for_actor(request.user, status=rules.SCHEDULED)[:200]
            ),
        },
    )


# Objections -----------------------------------------------------------------------------


@staff_required("publishing.view")
def objection_list(request):
    form = forms.ObjectionFilterForm(request.GET or None)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    page = _page(request, selectors.objection_list_for_actor(request.user, status=status))
    template = (
        "publishing/staff/_objection_rows.html"
        if request.htmx
        else "publishing/staff/objection_list.html"
    )
    return render(request, template, {"form": form, "page": page})


def _objection_page(request, objection, *, form=None, contact=None, status=200):
    return render(
        request,
        "publishing/staff/objection_detail.html",
        {
            "objection": objection,
            "item": objection.item,
            "form": form or forms.answer_form(initial={"answer": objection.answer}),
            "contact": contact,
            "can_answer": request.user.can("publishing.answer"),
        },
        status=status,
    )


@staff_required("publishing.view")
def objection_detail(request, objection_id):
    objection = selectors.objection_get_for_actor(request.user, objection_id)
    return _objection_page(request, objection)


@staff_required("publishing.answer")
@require_POST
def objection_contact(request, objection_id):
    objection = selectors.objection_get_for_actor(request.user, objection_id)
    contact = selectors.objection_contact(request.user, objection)
    if request.htmx:
        return render(request, "publishing/staff/_objection_contact.html", {"contact": contact})
    return _objection_page(request, objection, contact=contact)


@staff_required("publishing.answer")
@require_POST
def objection_answer(request, objection_id):
    objection = selectors.objection_get_for_actor(request.user, objection_id)
    form = forms.answer_form(request.POST)
    if form.is_valid():
        try:
            services.objection_answer(actor=request.user, objection=objection, answer=form.value)
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, "答复已保存，提出人可用查询码查看。")
            return redirect("publishing:staff-objection-detail", objection_id=objection.pk)
    return _objection_page(request, objection, form=form)


# Categories -----------------------------------------------------------------------------


def _category_initial(category) -> dict:
    return {
        "category": category.pk,
        "code": category.code,
        "name": category.name,
        "description": category.description,
        "notice_days": category.notice_days,
        "is_active": category.is_active,
    }


@staff_required("publishing.review")
def category_list(request):
    categories = list(selectors.category_list_staff())
    by_id = {c.pk: c for c in categories}
    editing = by_id.get(_int(request.POST.get("category") or request.GET.get("edit")))
    if request.method == "POST":
        form = forms.CategoryForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            fields = {k: d[k] for k in ("name", "description", "notice_days", "is_active")}
            try:
                if editing is not None:
                    services.category_update(actor=request.user, category=editing, **fields)
                else:
                    services.category_create(actor=request.user, code=d["code"], **fields)
            except ServiceError as exc:
                form_add_error(form, exc)
                categories = list(selectors.category_list_staff())  # as stored, not as typed
                editing = next((c for c in categories if editing and c.pk == editing.pk), None)
            else:
                messages.success(request, f"类别“{d['name'].strip()}”已保存。")
                return redirect("publishing:staff-category-list")
    elif editing is not None:
        form = forms.CategoryForm(initial=_category_initial(editing))
    else:
        form = forms.CategoryForm(initial={"notice_days": 0, "is_active": True})
    return render(
        request,
        "publishing/staff/category_list.html",
        {"categories": categories, "form": form, "editing": editing},
    )


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
