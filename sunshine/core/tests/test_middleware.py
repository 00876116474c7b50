"""The request context the audit log reads: set for the request, cleared after it."""

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
