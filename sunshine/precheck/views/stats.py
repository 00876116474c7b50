"""The statistics page of 好孕好运 (/staff/precheck/stats/): checks per town and month,
coverage against targets, risk mix, SMS count and cost per participant; one year at a time,
scoped to the user's read prefix. Definitions are in sunshine/precheck/stats.py."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from sunshine.accounts.access import staff_required
from sunshine.core import exports
from sunshine.core.errors import ServiceError
from sunshine.precheck import content, stats


def _year(request, *, quiet: bool = False) -> int:
    try:
        return content.parse_year(request.GET.get("year"))
    except ServiceError as exc:
        if not quiet:
            messages.error(request, f"{exc.message}已显示今年。")
        return timezone.localtime().year


@staff_required("precheck.stats")
@require_GET
def stats_page(request):
    year = _year(request)
    data = stats.stats_for_actor(request.user, year=year)
    return render(
        request,
        "precheck/stats.html",
        {
            "data": data,
            "year": year,
            "year_options": content.year_options(),
            "charts": stats.charts(data),
            "levels": [stats.LEVEL_LABELS[k] for k in stats.LEVELS],
            "home": request.user.view_place or request.user.place,
        },
    )


@staff_required("precheck.stats")
@require_GET
def stats_export(request):
    table = request.GET.get("table") or stats.TABLES[0]
    if table not in stats.TABLES:
        raise Http404("没有这张统计表。")
    year = _year(request, quiet=True)
    title, headers, rows = stats.table_rows(stats.stats_for_actor(request.user, year=year), table)
    return exports.xlsx_response(f"{title}.xlsx", headers, rows, title=title)
