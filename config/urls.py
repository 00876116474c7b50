from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from sunshine.api.views import api
from sunshine.backoffice.login_views import admin_login

admin.site.site_header = "阳光计生 系统管理"
admin.site.site_title = "阳光计生"
admin.site.index_title = "系统管理"


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", include("sunshine.portal.urls")),
    path("", include("sunshine.publishing.urls")),  # public routes and staff/publishing/
    path("staff/people/", include("sunshine.people.urls")),
    path("staff/sms/", include("sunshine.messaging.urls_staff")),
    path("staff/precheck/", include("sunshine.precheck.urls_staff")),
    path("staff/rh/", include("sunshine.rhregistry.urls_staff")),
    path("precheck/", include("sunshine.precheck.urls")),
    path("rh/", include("sunshine.rhregistry.urls")),
    path("staff/", include("sunshine.backoffice.urls")),
    path("api/", api.urls),
    path("", include("sunshine.messaging.urls")),
    path("captcha/", include("captcha.urls")),  # the public forms' picture challenge
    # The admin signs in through the staff login (password, then the second factor).
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("healthz", healthz),
]
