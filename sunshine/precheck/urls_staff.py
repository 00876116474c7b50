"""Staff routes of 好孕好运 (/staff/precheck/). Each area keeps its own block."""

from django.urls import path

from sunshine.precheck.views import catalogue as catalogue_views  # the check catalogue
from sunshine.precheck.views import content as content_views  # portal content
from sunshine.precheck.views import followups as followup_views  # follow-ups
from sunshine.precheck.views import results as results_views
from sunshine.precheck.views import staff as desk_views  # registrations, appointments
from sunshine.precheck.views import stats as stats_views  # statistics

app_name = "precheck_staff"
urlpatterns: list = [
    # -- registrations, institutions, slots, appointments --
    path("", desk_views.registration_list, name="registration-list"),
    path(
        "registrations/export.xlsx",
        desk_views.registration_export_xlsx,
        name="registration-export-xlsx",
    ),
    path(
        "registrations/export.csv",
        desk_views.registration_export_csv,
        name="registration-export-csv",
    ),
    path("registrations/new/", desk_views.registration_create, name="registration-create"),
    path(
        "registrations/<int:registration_id>/",
        desk_views.registration_detail,
        name="registration-detail",
    ),
    path(
        "registrations/<int:registration_id>/identifiers/",
        desk_views.registration_identifiers,
        name="registration-identifiers",
    ),
    path(
        "registrations/<int:registration_id>/book/",
        desk_views.registration_book,
        name="registration-book",
    ),
    path(
        "registrations/<int:registration_id>/close/",
        desk_views.registration_close,
        name="registration-close",
    ),
    path("appointments/changes/", desk_views.appointment_changes, name="appointment-changes"),
    path(
        "appointments/<int:appointment_id>/cancel/",
        desk_views.appointment_cancel,
        name="appointment-cancel",
    ),
    path(
        "appointments/<int:appointment_id>/mark/",
        desk_views.appointment_mark,
        name="appointment-mark",
    ),
    path("institutions/", desk_views.institution_list, name="institution-list"),
    path("institutions/new/", desk_views.institution_create, name="institution-create"),
    path(
        "institutions/<int:institution_id>/",
        desk_views.institution_detail,
        name="institution-detail",
    ),
    path(
        "institutions/<int:institution_id>/edit/",
        desk_views.institution_edit,
        name="institution-edit",
    ),
    path(
        "institutions/<int:institution_id>/slots/open/",
        desk_views.slot_open,
        name="slot-open",
    ),
    path(
        "institutions/<int:institution_id>/day/",
        desk_views.appointment_day,
        name="appointment-day",
    ),
    path("slots/<int:slot_id>/close/", desk_views.slot_close, name="slot-close"),
    # -- results, risk assessment, counselling --
    path("results/", results_views.results_worklist, name="results-worklist"),
    path(
        "registrations/<int:registration_id>/results/",
        results_views.results_entry,
        name="results-entry",
    ),
    path(
        "registrations/<int:registration_id>/results/assess/",
        results_views.results_assess,
        name="results-assess",
    ),
    path(
        "registrations/<int:registration_id>/results/counselling/",
        results_views.results_counselling,
        name="results-counselling",
    ),
    # -- follow-ups and pregnancies --
    path("followups/", followup_views.followup_list, name="followup-list"),
    path(
        "followups/<int:followup_id>/",
        followup_views.followup_detail,
        name="followup-detail",
    ),
    path(
        "followups/<int:followup_id>/record/",
        followup_views.followup_record,
        name="followup-record",
    ),
    path(
        "followups/<int:followup_id>/mobiles/",
        followup_views.followup_mobiles,
        name="followup-mobiles",
    ),
    path("pregnancies/", followup_views.pregnancy_list, name="pregnancy-list"),
    path(
        "pregnancies/<int:pregnancy_id>/",
        followup_views.pregnancy_detail,
        name="pregnancy-detail",
    ),
    path(
        "pregnancies/<int:pregnancy_id>/lmp/",
        followup_views.pregnancy_lmp,
        name="pregnancy-lmp",
    ),
    path(
        "pregnancies/<int:pregnancy_id>/end/",
        followup_views.pregnancy_end,
        name="pregnancy-end",
    ),
    path(
        "registrations/<int:registration_id>/pregnancy/",
        followup_views.pregnancy_create,
        name="pregnancy-create",
    ),
    # -- articles, targets, statistics --
    path("articles/", content_views.article_list, name="article-list"),
    path("articles/new/", content_views.article_create, name="article-create"),
    path("articles/<int:article_id>/", content_views.article_edit, name="article-edit"),
    path(
        "articles/<int:article_id>/publish/",
        content_views.article_publish,
        name="article-publish",
    ),
    path(
        "articles/<int:article_id>/unpublish/",
        content_views.article_unpublish,
        name="article-unpublish",
    ),
    path("targets/", content_views.target_list, name="targets"),
    path("targets/export.xlsx", content_views.target_export, name="target-export"),
    path("targets/import/", content_views.target_import, name="target-import"),
    path("catalogue/", catalogue_views.catalogue_list, name="catalogue"),
    path(
        "catalogue/<int:checkitem_id>/",
        catalogue_views.catalogue_edit,
        name="catalogue-edit",
    ),
    path("stats/", stats_views.stats_page, name="stats"),
    path("stats/export.xlsx", stats_views.stats_export, name="stats-export"),
]
