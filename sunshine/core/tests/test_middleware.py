"""The request context the audit log reads: set for the request, cleared after it; the
database-busy page; no-store on staff responses."""

import pytest

from sunshine.core import context
from sunshine.core.middleware import RequestContextMiddleware, client_ip


class TestRequestContextMiddleware:
    def test_view_sees_ip_user_agent_and_path(self, rf):
        seen = []
        middleware = RequestContextMiddleware(lambda request: seen.append(context.current()))
        middleware(rf.get("/p/1/", REMOTE_ADDR="10.0.0.9", HTTP_USER_AGENT="手机浏览器"))
        assert seen == [context.RequestInfo(ip="10.0.0.9", user_agent="手机浏览器", path="/p/1/")]

    def test_long_user_agent_and_path_are_cut_to_fit_the_columns(self, rf):
        seen = []
        middleware = RequestContextMiddleware(lambda request: seen.append(context.current()))
        middleware(rf.get("/" + "a" * 400, HTTP_USER_AGENT="b" * 500))
        assert len(seen[0].user_agent) == 200 and len(seen[0].path) == 300

    def test_context_is_cleared_even_when_the_view_raises(self, rf):
        def boom(request):
            raise RuntimeError("x")

        try:
            RequestContextMiddleware(boom)(rf.get("/x/"))
        except RuntimeError:
            pass
        assert context.current() == context.RequestInfo()

    def test_client_ip_is_the_socket_address_not_a_forwarded_header(self, rf):
        request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert client_ip(request) == "10.0.0.9"


class TestDatabaseBusy:
    def test_a_locked_sqlite_database_gives_a_chinese_503_not_a_500(self, rf):
        from django.db import OperationalError

        from sunshine.core.middleware import DatabaseBusyMiddleware

        mw = DatabaseBusyMiddleware(lambda r: None)
        response = mw.process_exception(rf.get("/"), OperationalError("database is locked"))
        assert response.status_code == 503 and "系统正忙" in response.content.decode()
        assert response["Retry-After"] == "30"

    def test_other_database_errors_are_not_hidden(self, rf):
        from django.db import OperationalError

        from sunshine.core.middleware import DatabaseBusyMiddleware

        assert (
            DatabaseBusyMiddleware(lambda r: None).process_exception(
                rf.get("/"), OperationalError("x")
            )
            is None
        )


class TestNoStore:
    """Staff pages show full ID numbers and mobile numbers: no cache may keep them."""

    @pytest.mark.parametrize("path", ["/staff/people/", "/api/staff/me", "/admin/"])
    def test_every_staff_response_says_no_store(self, rf, path):
        from django.http import HttpResponse

        from sunshine.core.middleware import NoStoreMiddleware

        response = NoStoreMiddleware(lambda r: HttpResponse("320324197003151124"))(rf.get(path))
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]

    def test_public_pages_keep_their_own_caching(self, rf):
        from django.http import HttpResponse

        from sunshine.core.middleware import NoStoreMiddleware

        response = NoStoreMiddleware(lambda r: HttpResponse("ok"))(rf.get("/p/980101/"))
        assert "Cache-Control" not in response

    @pytest.mark.django_db
    def test_a_staff_page_with_full_identifiers_is_sent_no_store(self, client, world):
        client.force_login(world.users["town_clerk"])
        resident = world.residents["own"]
        response = client.get(f"/staff/people/{resident.pk}/")
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        api = client.get("/api/staff/me")
        assert api.status_code == 200 and "no-store" in api["Cache-Control"]

    @pytest.mark.django_db
    def test_the_login_redirect_of_a_staff_page_is_no_store_too(self, client):
        response = client.get("/staff/people/")
        assert response.status_code == 302 and "no-store" in response["Cache-Control"]

    @pytest.mark.django_db
    def test_the_public_home_page_is_not_marked_no_store(self, client, world):
        response = client.get("/")
        assert "no-store" not in response.get("Cache-Control", "")
