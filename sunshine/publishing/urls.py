"""The "publishing" URL namespace for both audiences: the public routes at the site root and
the staff routes under /staff/publishing/. Two includes sharing one namespace would not work
(Django keeps only the first for reversing), hence one module."""

from django.urls import include, path

from sunshine.publishing import urls_public, urls_staff

app_name = "publishing"
urlpatterns = [
    *urls_public.urlpatterns,
    path("staff/publishing/", include(urls_staff.urlpatterns)),
]
