"""Public routes of the Rh-negative mutual-aid registry (/rh/)."""

from django.urls import path  # noqa: F401

app_name = "rhregistry"
urlpatterns: list = []
