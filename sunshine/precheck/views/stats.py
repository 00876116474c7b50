"""The statistics page of 好孕好运 (/staff/precheck/stats/): checks per town and month,
coverage against targets, risk mix, SMS count and cost per participant; one year at a time,
scoped to the user's read prefix. Definitions are in sunshine/precheck/stats.py."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sunshine.accounts.access import staff_required
from sunshine.core import exports
from sunshine.precheck import content, stats
from sunshine.precheck.views.content import year_from_request


@staff_required("precheck.stats")
@require_GET
def stats_page(request):
    year = year_from_request(request)
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
    year = year_from_request(request, quiet=True)
    title, headers, rows = stats.table_rows(stats.stats_for_actor(request.user, year=year), table)
    return exports.xlsx_response(f"{title}.xlsx", headers, rows, title=title)
