"""Staff routes of 好孕好运 (/staff/precheck/). Each area keeps its own block."""

from django.urls import path  # noqa: F401

app_name = "precheck_staff"
urlpatterns: list = [
    # -- registrations, institutions, slots, appointments --
    # -- results, risk assessment, counselling --
    # -- follow-ups and pregnancies --
    # -- articles, targets, statistics --
]
