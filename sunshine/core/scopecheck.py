"""The scope checker behind the table-driven scope test (foundation issue, 'Staff and scopes').

It walks every URL pattern under the staff prefixes and every model registered in the admin,
requests each as a probe user scoped to one town, and reports every way another town's data
shows through: a list or export that contains its markers, or an object route that does not
answer 404 for its objects. A route whose arguments it cannot fill is reported too, so a new
route cannot slip past unchecked.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

STAFF_PREFIXES = ("staff/", "api/staff/")
# Routes that are about signing in and out, not about data.
# The log-in steps come before there is a signed-in user to scope.
EXEMPT_NAMES = {
    "backoffice:login",
    "backoffice:login-verify",
    "backoffice:login-enrol",
    "backoffice:login-recovery-codes",
    "backoffice:logout",
}


@dataclass
class Route:
    route: str  # e.g. "staff/places/<str:place_code>/"
    name: str  # namespaced url name, or "" when unnamed
    kwargs: tuple[str, ...]


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else (p.name or "")
            yield prefix + str(p.pattern), name, tuple(p.pattern.converters.keys()), p


def staff_routes(urlconf=None) -> list[Route]:
    out = []
    for route, name, kwargs, _ in _walk(get_resolver(urlconf).url_patterns):
        if route.startswith(STAFF_PREFIXES) and name not in EXEMPT_NAMES:
            out.append(Route(route=route, name=name, kwargs=kwargs))
    return out


def _fill(route: str, values: dict[str, str]) -> str:
    import re

    def sub(m):
        return str(values[m.group(2)])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)


def response_text(response) -> str:
    """The body as text; .xlsx bodies are opened and their cells joined."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    ctype = response.get("Content-Type", "")
    if "spreadsheetml" in ctype:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(body), read_only=True)
        cells = []
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                cells.extend("" if v is None else str(v) for v in row)
        return "\n".join(cells)
    return body.decode("utf-8", errors="replace")


def check_routes(
    client,
    routes: list[Route],
    *,
    own: dict[str, Callable[[], str]],
    other: dict[str, Callable[[], str]],
    markers: tuple[str, ...],
) -> list[str]:
    """Problems found: each a sentence naming the route."""
    problems = []
    for r in routes:
        unknown = [k for k in r.kwargs if k not in own or k not in other]
        if unknown:
            problems.append(
                f"{r.route}: 参数 {', '.join(unknown)} 不在范围测试的取值表中，请补充。"
            )
            continue
        if not r.kwargs:
            resp = client.get("/" + r.route)
            if resp.status_code == 405:
                resp = client.post("/" + r.route)
            if resp.status_code >= 500:
                problems.append(f"{r.route}: 返回 {resp.status_code}")
                continue
            text = response_text(resp)
            leaked = [m for m in markers if m in text]
            if leaked:
                problems.append(
                    f"{r.route}: 列表或导出中出现了管辖范围外的数据（{'、'.join(leaked)}）。"
                )
            continue
        own_url = _fill(r.route, {k: own[k]() for k in r.kwargs})
        other_url = _fill(r.route, {k: other[k]() for k in r.kwargs})
        resp_own = client.get(own_url)
        method = client.get
        if resp_own.status_code == 405:
            method = client.post
            resp_own = client.post(own_url)
        if resp_own.status_code >= 400:
            problems.append(
                f"{own_url}: 本范围内的对象返回 {resp_own.status_code}，测试无法证明范围限定。"
            )
        resp_other = method(other_url)
        if resp_other.status_code != 404:
            problems.append(
                f"{other_url}: 管辖范围外的对象返回 {resp_other.status_code}，应为 404。"
            )
    return problems


def check_admin(
    client, *, own_objects: dict, other_objects: dict, markers: tuple[str, ...]
) -> list[str]:
    problems = []
    for model in admin.site._registry:
        label = model._meta.label
        if model not in own_objects or model not in other_objects:
            problems.append(f"admin {label}: 不在范围测试的对象表中，请补充。")
            continue
        info = model._meta.app_label, model._meta.model_name
        text = response_text(client.get(reverse("admin:{}_{}_changelist".format(*info))))
        leaked = [m for m in markers if m in text]
        if leaked:
            problems.append(f"admin {label} 列表：出现了管辖范围外的数据（{'、'.join(leaked)}）。")
        for view in ("change", "history"):
            own_url = reverse(f"admin:{info[0]}_{info[1]}_{view}", args=[own_objects[model]().pk])
            other_url = reverse(
                f"admin:{info[0]}_{info[1]}_{view}", args=[other_objects[model]().pk]
            )
            if client.get(own_url).status_code != 200:
                problems.append(f"admin {own_url}: 本范围内的对象打不开，测试无法证明范围限定。")
            status = client.get(other_url).status_code
            if status != 404:
                problems.append(f"admin {other_url}: 管辖范围外的对象返回 {status}，应为 404。")
    return problems
