"""Public routes of 好孕好运 (/precheck/): registration, booking, the schedule, articles."""

from django.urls import path

from sunshine.precheck.views import content as content_views  # portal content
from sunshine.precheck.views import public as public_views  # registration and appointments

app_name = "precheck"
urlpatterns: list = [
    # -- registration and appointments --
    path("register/", public_views.register, name="register"),
    path("register/done/", public_views.register_done, name="register-done"),
    path("my/", public_views.my, name="my"),
    # -- portal content --
    path("", content_views.home, name="home"),
    path("articles/<int:article_id>/", content_views.article_detail, name="article"),
]
