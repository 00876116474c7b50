"""The request context the audit log reads: set for the request, cleared after it; the
database-busy page; no-store on staff responses."""

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


class TestClientIpBehindProxies:
    """SUNSHINE_TRUSTED_PROXIES: only a trusted proxy's X-Forwarded-For names the visitor."""

    @pytest.fixture(autouse=True)
    def _proxies(self, settings):
        settings.SUNSHINE_TRUSTED_PROXIES = ["10.0.0.1", "172.16.0.0/12"]

    def _ip(self, rf, remote, forwarded=None):
        extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
        return client_ip(rf.get("/", REMOTE_ADDR=remote, **extra))

    def test_two_visitors_behind_a_trusted_proxy_are_two_addresses(self, rf):
        assert self._ip(rf, "10.0.0.1", "203.0.113.7") == "203.0.113.7"
        assert self._ip(rf, "10.0.0.1", "198.51.100.2") == "198.51.100.2"

    def test_an_untrusted_sender_cannot_choose_its_address(self, rf):
        assert self._ip(rf, "203.0.113.7", "1.2.3.4") == "203.0.113.7"

    def test_the_walk_is_from_the_right_and_skips_trusted_hops(self, rf):
        # The visitor wrote "1.2.3.4" themselves; the outer proxy appended their real address,
        # an inner trusted proxy appended the outer one's.
        assert self._ip(rf, "10.0.0.1", "1.2.3.4, 203.0.113.7, 172.16.5.5") == "203.0.113.7"

    def test_a_malformed_hop_ends_the_walk_at_the_last_trusted_proxy(self, rf):
        assert self._ip(rf, "10.0.0.1", "203.0.113.7, not-an-ip") == "10.0.0.1"
        assert self._ip(rf, "10.0.0.1", "") == "10.0.0.1"
        assert self._ip(rf, "10.0.0.1") == "10.0.0.1"

    def test_ports_and_brackets_are_read(self, rf):
        assert self._ip(rf, "10.0.0.1", "203.0.113.7:51000") == "203.0.113.7"
        assert self._ip(rf, "10.0.0.1", "[2001:db8::7]:443") == "2001:db8::7"

    def test_a_malformed_proxy_setting_is_refused_at_start_up(self):
        from config.settings import trusted_proxies

        assert trusted_proxies(" 10.0.0.1, 172.16.0.0/12 ") == ["10.0.0.1", "172.16.0.0/12"]
        with pytest.raises(ValueError, match="SUNSHINE_TRUSTED_PROXIES"):
            trusted_proxies("10.0.0.1,nginx")


@pytest.mark.django_db
class TestProxyAwareAddressEverywhere:
    """Throttles, the log-in lockout and the audit log read the same proxy-aware address."""

    @pytest.fixture(autouse=True)
    def _proxies(self, settings):
        settings.SUNSHINE_TRUSTED_PROXIES = ["10.0.0.1"]

    def test_the_audit_log_records_the_forwarded_visitor(self, client, world):
        from sunshine.core.models import AuditEntry
        from sunshine.core.testing import PASSWORD

        client.post(
            "/staff/login/",
            {"username": "town_clerk", "password": PASSWORD},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
        assert AuditEntry.objects.get(action="auth.login").ip == "203.0.113.7"

    def test_a_lockout_behind_the_proxy_locks_out_only_the_guessing_address(
        self, client, world, settings
    ):
        from sunshine.core.testing import PASSWORD

        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post(
                "/staff/login/",
                {"username": "town_clerk", "password": "wrong"},
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.66",
            )
        from axes.models import AccessAttempt

        assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.66"]
        # The clerk, at another address behind the same proxy, still logs in.
        response = client.post(
            "/staff/login/",
            {"username": "town_clerk", "password": PASSWORD},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.2",
        )
        assert response.status_code == 302


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
