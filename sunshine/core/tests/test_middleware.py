"""The request context the audit log reads: set for the request, cleared after it."""

import pytest
from django.http import HttpResponse

from sunshine.core import context
from sunshine.core.middleware import (
    RequestContextMiddleware,
    UploadLimitMiddleware,
    client_ip,
    upload_limit,
)


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


class TestUploadLimitMiddleware:
    """A body over the limit is refused from its Content-Length: nothing reads it (the test
    client's payload raises if read past what it holds, and here it holds nothing)."""

    def _post(self, client, path, length):
        return client.generic(
            "POST",
            path,
            b"",
            content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(length),
        )

    @pytest.mark.django_db
    def test_a_staff_upload_over_the_limit_gets_a_chinese_413_without_being_read(
        self, client, settings
    ):
        settings.SUNSHINE_MAX_UPLOAD_MB = 200
        response = self._post(client, "/staff/people/import/", 300 * 1024 * 1024)
        assert response.status_code == 413
        text = response.content.decode()
        assert "太大" in text and "200 MB" in text and "300 MB" in text

    @pytest.mark.django_db
    def test_a_public_post_has_a_smaller_limit(self, client, settings):
        settings.SUNSHINE_MAX_PUBLIC_BODY_KB = 2048
        response = self._post(client, "/", 3 * 1024 * 1024)
        assert response.status_code == 413
        assert "2 MB" in response.content.decode()

    def test_a_body_within_the_limit_reaches_the_view(self, rf, settings):
        settings.SUNSHINE_MAX_PUBLIC_BODY_KB = 1
        request = rf.post("/x/", data="a=" + "b" * 500, content_type="text/plain")
        response = UploadLimitMiddleware(lambda r: HttpResponse(r.body[:3]))(request)
        assert (response.status_code, response.content) == (200, b"a=b")

    def test_staff_paths_take_the_upload_limit_and_others_the_public_one(self, settings):
        settings.SUNSHINE_MAX_UPLOAD_MB, settings.SUNSHINE_MAX_PUBLIC_BODY_KB = 5, 7
        assert upload_limit("/staff/people/import/") == 5 * 1024 * 1024
        assert upload_limit("/api/staff/residents") == 5 * 1024 * 1024
        assert upload_limit("/p/123/objections/") == 7 * 1024
        assert upload_limit("/sms/replies/x/") == 7 * 1024

    def test_a_malformed_content_length_is_left_to_django(self, rf):
        request = rf.post("/x/", data="a=1", content_type="text/plain")
        request.META["CONTENT_LENGTH"] = "abc"
        response = UploadLimitMiddleware(lambda r: HttpResponse("ok"))(request)
        assert response.status_code == 200
