"""Public routes of the Rh-negative mutual-aid registry (/rh/)."""

from django.urls import path

from sunshine.rhregistry.views import public

app_name = "rhregistry"
urlpatterns = [
    path("", public.about, name="about"),
    path("join/", public.join, name="join"),
    path("withdraw/", public.withdraw, name="withdraw"),
]
