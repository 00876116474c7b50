"""Every route of /api/openapi.json driven from its own schema (hypothesis): path, query and
JSON body values of every shape, far out of range included (2**63, negative, huge strings,
wrong types), anonymously and as a signed-in staff member. No answer is a 500, and every answer
is one the OpenAPI document lists for that route."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sunshine.api.views import api

pytestmark = pytest.mark.django_db
EXAMPLES = 12  # per route and user: about 700 requests in all, well under a minute

SCHEMA = api.get_openapi_schema(path_prefix="/api/")
OPERATIONS = [
    (method, path, op) for path, ops in SCHEMA["paths"].items() for method, op in ops.items()
]
HUGE = st.sampled_from([2**63, 2**63 - 1, -(2**63), 2**64, 10**30, 0, -1])


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SCHEMA["components"]["schemas"][name]
    return schema


def _value(schema: dict, depth: int = 0):
    """A value that often fits the schema and often does not."""
    schema = _resolve(schema)
    kinds = [s.get("type") for s in schema.get("anyOf", [])] or [schema.get("type")]
    anything = st.one_of(st.none(), st.booleans(), HUGE, st.text(max_size=30))
    options = [anything]
    if "integer" in kinds:
        options += [st.integers(min_value=-5, max_value=50), HUGE]
    if "string" in kinds:
        options += [st.text(max_size=40), st.sampled_from(["980101100001", "1", "2026", ""])]
    if "boolean" in kinds:
        options.append(st.booleans())
    if "array" in kinds and depth < 3:
        item = schema.get("items") or next(
            (s.get("items") for s in schema.get("anyOf", []) if s.get("items")), {}
        )
        options.append(st.lists(_value(item, depth + 1), max_size=3))
    if "object" in kinds and depth < 3:
        options.append(_object(schema, depth + 1))
    return st.one_of(options)


def _object(schema: dict, depth: int = 0):
    props = _resolve(schema).get("properties", {})
    return st.fixed_dictionaries(
        {}, optional={name: _value(sub, depth) for name, sub in props.items()}
    )


def _request(op: dict):
    params = {p["name"]: p for p in op.get("parameters", [])}
    path_params = {n: _value(p["schema"]) for n, p in params.items() if p["in"] == "path"}
    query = {n: _value(p["schema"]) for n, p in params.items() if p["in"] == "query"}
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    return st.fixed_dictionaries(
        {
            "path": st.fixed_dictionaries(path_params),
            "query": st.fixed_dictionaries({}, optional=query),
            "body": _object(body["schema"]) if body else st.none(),
        }
    )


def _url(path: str, values: dict) -> str:
    from urllib.parse import quote

    for name, value in values.items():
        text = "" if value is None else str(value)
        path = path.replace("{" + name + "}", quote(text, safe="") or "x")
    return path


@pytest.mark.parametrize("who", ["anonymous", "staff"])
@pytest.mark.parametrize(
    ("method", "path", "op"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_no_route_answers_500_and_every_answer_is_documented(world, client, who, method, path, op):
    if who == "staff":
        client.force_login(world.users["probe"])
    documented = {int(code) for code in op["responses"]}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(_request(op))
    def check(req):
        url = _url(path, req["path"])
        query = {k: "" if v is None else str(v) for k, v in req["query"].items()}
        if method == "get":
            response = client.get(url, query)
        else:
            from urllib.parse import urlencode

            response = client.post(
                url + ("?" + urlencode(query) if query else ""),
                json.dumps(req["body"] or {}),
                content_type="application/json",
            )
        assert response.status_code != 500, (method, url, req, response.content[:300])
        assert response.status_code in documented, (
            method,
            url,
            req,
            response.status_code,
            response.content[:300],
        )

    check()


LIST_ROUTES = [
    "/api/open/items",
    "/api/staff/places",
    "/api/staff/audit",
    "/api/staff/residents",
    "/api/staff/precheck/followups",
    "/api/staff/precheck/registrations",
    "/api/staff/precheck/slots",
    "/api/staff/rh/donors",
    "/api/staff/rh/search",
]


@pytest.mark.parametrize("url", LIST_ROUTES)
@pytest.mark.parametrize("param", ["limit", "offset"])
def test_list_routes_refuse_a_huge_limit_or_offset_with_a_chinese_422(world, client, url, param):
    # 2**63 used to reach the database and overflow its integer: a 500 on all nine routes.
    client.force_login(world.users["probe"])
    response = client.get(url, {param: 2**63})
    assert response.status_code == 422
    assert f"{param}：不能大于" in response.json()["detail"]


@pytest.mark.parametrize(
    "url", ["/api/staff/audit/9223372036854775808", "/api/staff/rh/donors/99999999999999999999"]
)
def test_an_id_beyond_the_database_integer_is_a_422_not_a_500(world, client, url):
    client.force_login(world.users["probe"])
    assert client.get(url).status_code == 422


def test_the_openapi_document_lists_each_routes_error_answers(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/staff/residents/{resident_id}"]["get"]["responses"]) == {
        "200",
        "401",
        "403",
        "404",
        "422",
    }
    assert set(paths["/api/staff/me"]["get"]["responses"]) == {"200", "401"}
    assert set(paths["/api/open/items"]["get"]["responses"]) == {"200", "404", "422"}
    assert set(paths["/api/staff/residents"]["post"]["responses"]) >= {"201", "400", "422"}


def test_anonymous_staff_routes_answer_401_in_chinese(client):
    response = client.get("/api/staff/me")
    assert response.status_code == 401 and response.json()["detail"] == "请先登录工作人员账号。"
