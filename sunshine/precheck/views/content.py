"""Portal content of 好孕好运: the public /precheck/ page and articles; staff pages for articles
and the towns' yearly targets (with Excel export and import)."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from sunshine.accounts.access import staff_required
from sunshine.core import exports
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.precheck import content
from sunshine.precheck.models import Article

# ---- public --------------------------------------------------------------------------------


@require_GET
def home(request):
    """The phone-first landing page: what the free check is, register/lookup buttons, the
    schedule (institutions and their next open slots), process, precautions, articles."""
    items = content.check_items()
    published = list(content.article_list_public())
    for a in published:
        if a.kind in (Article.PROCESS, Article.PRECAUTIONS, Article.SCHEDULE):
            a.blocks = content.article_blocks(a.body)
    return render(
        request,
        "precheck/home.html",
        {
            "exams": items["exams"],
            "services": items["services"],
            "item_count": len(items["all"]),
            "schedule": content.schedule_public(),
            "schedule_days": content.SCHEDULE_DAYS,
            "process": [a for a in published if a.kind == Article.PROCESS],
            "precautions": [a for a in published if a.kind == Article.PRECAUTIONS],
            "notices": [a for a in published if a.kind == Article.SCHEDULE],
            "education": [a for a in published if a.kind == Article.EDUCATION],
        },
    )


@require_GET
def article_detail(request, article_id: int):
    article = content.article_get_public(article_id)
    article.blocks = content.article_blocks(article.body)
    others = [a for a in content.article_list_public(Article.EDUCATION)[:8] if a.pk != article.pk]
    return render(request, "precheck/article_detail.html", {"article": article, "others": others})


# ---- staff: articles -----------------------------------------------------------------------


class ArticleForm(forms.Form):
    kind = forms.ChoiceField(label="栏目", choices=Article.KIND_CHOICES)
    title = forms.CharField(label="标题", max_length=content.TITLE_MAX)
    body = forms.CharField(
        label="正文",
        max_length=content.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="纯文字：空一行分段；以“·”开头的行显示为列表。不要写个人信息。",
    )
    publish = forms.BooleanField(label="保存后立即发布到好孕好运页面", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, f in self.fields.items():
            css = (
                "form-check-input"
                if name == "publish"
                else "form-select"
                if name == "kind"
                else "form-control"
            )
            f.widget.attrs.setdefault("class", css)


@staff_required("precheck.manage")
@require_GET
def article_list(request):
    return render(
        request, "precheck/article_list.html", {"articles": list(content.article_list_for_staff())}
    )


def _article_save(request, form, article=None):
    d = form.cleaned_data
    try:
        if article is None:
            article = content.article_create(
                actor=request.user, kind=d["kind"], title=d["title"], body=d["body"]
            )
        else:
            article = content.article_update(
                actor=request.user,
                article=article,
                kind=d["kind"],
                title=d["title"],
                body=d["body"],
            )
        if d.get("publish"):
            article = content.article_publish(actor=request.user, article=article)
    except ServiceError as exc:
        form_add_error(form, exc)
        return None
    return article


@staff_required("precheck.manage")
def article_create(request):
    form = ArticleForm(request.POST or None, initial={"kind": Article.EDUCATION})
    if request.method == "POST" and form.is_valid():
        article = _article_save(request, form)
        if article is not None:
            state = "已发布" if article.is_published else "已保存为草稿（未发布）"
            messages.success(request, f"文章“{article.title}”{state}。")
            return redirect("precheck_staff:article-list")
    return render(request, "precheck/article_form.html", {"form": form, "article": None})


@staff_required("precheck.manage")
def article_edit(request, article_id: int):
    article = content.article_get_for_staff(article_id)
    initial = {"kind": article.kind, "title": article.title, "body": article.body}
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _article_save(request, form, article)
        if saved is not None:
            messages.success(request, f"文章“{saved.title}”已保存。")
            return redirect("precheck_staff:article-list")
    return render(request, "precheck/article_form.html", {"form": form, "article": article})


@staff_required("precheck.manage")
@require_POST
def article_publish(request, article_id: int):
    article = content.article_publish(
        actor=request.user, article=content.article_get_for_staff(article_id)
    )
    messages.success(request, f"文章“{article.title}”已发布，群众可在好孕好运页面看到。")
    return redirect("precheck_staff:article-list")


@staff_required("precheck.manage")
@require_POST
def article_unpublish(request, article_id: int):
    article = content.article_unpublish(
        actor=request.user, article=content.article_get_for_staff(article_id)
    )
    messages.success(request, f"文章“{article.title}”已撤下，不再公开显示。")
    return redirect("precheck_staff:article-list")


# ---- staff: targets ------------------------------------------------------------------------


class TargetUploadForm(forms.Form):
    file = forms.FileField(label="目标人群表格（.xlsx 或 .csv）")


def year_from_request(request, *, quiet: bool = False) -> int:
    """The year asked for (query string or form), or this year with a message saying so
    (`quiet`: without the message, e.g. for a download). Also used by views/stats.py."""
    try:
        return content.parse_year(request.GET.get("year") or request.POST.get("year"))
    except ServiceError as exc:
        if not quiet:
            messages.error(request, f"{exc.message}已显示今年。")
        return timezone.localtime().year


def _targets_page(request, year: int, *, upload_form=None, status: int = 200):
    years = [year - 2, year - 1, year]
    return render(
        request,
        "precheck/target_list.html",
        {
            "year": year,
            "years": years,
            "year_options": content.year_options(),
            "rows": content.target_table_for_actor(request.user, years=years),
            "can_set": content.can_set_targets(request.user),
            "upload_form": upload_form or TargetUploadForm(),
            "headers": content.TARGET_HEADERS,
        },
        status=status,
    )


@staff_required("precheck.manage")
def target_list(request):
    """The town × year table; a county writer sets the selected year's target per town row."""
    year = year_from_request(request)
    if request.method == "POST":
        try:
            town = content.town_get_for_target(request.user, request.POST.get("place_code", ""))
            target = content.target_set(
                actor=request.user, place=town, year=year, couples=request.POST.get("couples")
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return _targets_page(request, year, status=400)
        messages.success(request, f"{town.name}{year}年目标人群已设为{target.couples}对。")
        return redirect(f"{reverse('precheck_staff:targets')}?year={year}")
    return _targets_page(request, year)


@staff_required("precheck.manage")
@require_GET
def target_export(request):
    year = year_from_request(request, quiet=True)
    rows = content.target_table_for_actor(request.user, years=[year])
    return exports.xlsx_response(
        f"孕前优生检查目标人群{year}.xlsx",
        content.TARGET_HEADERS,
        ([r.town.code, r.town.name, year, r.by_year[year] or ""] for r in rows),
        title=f"{year}年目标人群",
    )


@staff_required("precheck.manage")
@require_POST
def target_import(request):
    year = year_from_request(request, quiet=True)
    form = TargetUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _targets_page(request, year, upload_form=form, status=400)
    try:
        result = content.target_import(actor=request.user, upload=form.cleaned_data["file"])
    except ServiceError as exc:
        form.add_error("file", exc.message)
        return _targets_page(request, year, upload_form=form, status=400)
    messages.success(
        request,
        f"导入完成：保存{result.saved}个乡镇的目标，{result.unchanged}个没有变化，"
        f"{result.skipped}行未填目标人群已跳过。",
    )
    return redirect(f"{reverse('precheck_staff:targets')}?year={year}")
