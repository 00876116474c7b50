"""Public routes of 好孕好运 (/precheck/): registration, booking, the schedule, articles."""

from django.urls import path  # noqa: F401

app_name = "precheck"
urlpatterns: list = [
    # -- registration and appointments --
    # -- portal content --
]
