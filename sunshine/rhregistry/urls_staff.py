"""Staff routes of the registry (/staff/rh/): every one hidden (404) from roles without
`rh.registry`."""

from django.urls import path  # noqa: F401

app_name = "rhregistry_staff"
urlpatterns: list = []
