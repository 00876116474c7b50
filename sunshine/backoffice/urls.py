from django.contrib.auth import views as auth_views
from django.urls import path

from sunshine.backoffice import login_views, views

app_name = "backoffice"
urlpatterns = [
    path("login/", login_views.LoginView.as_view(), name="login"),
    path("login/verify/", login_views.login_verify, name="login-verify"),
    path("login/enrol/", login_views.login_enrol, name="login-enrol"),
    path("login/recovery-codes/", login_views.login_recovery_codes, name="login-recovery-codes"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("places/", views.place_list, name="place-list"),
    path("places/export.xlsx", views.place_export_xlsx, name="place-export-xlsx"),
    path("places/export.csv", views.place_export_csv, name="place-export-csv"),
    path("places/import/", views.place_import, name="place-import"),
    path("places/<str:place_code>/", views.place_detail, name="place-detail"),
    path("users/", views.user_list, name="user-list"),
    path("users/<int:user_id>/", views.user_detail, name="user-detail"),
    path(
        "users/<int:user_id>/two-factor/reset/",
        views.user_two_factor_reset,
        name="user-two-factor-reset",
    ),
    path("lockouts/", views.lockout_list, name="lockout-list"),
    path("lockouts/<int:attempt_id>/unlock/", views.lockout_unlock, name="lockout-unlock"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/result/", views.job_result, name="job-result"),
    path("jobs/<int:job_id>/rerun/", views.job_rerun, name="job-rerun"),
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/export.csv", views.audit_export_csv, name="audit-export-csv"),
    path("audit/<int:audit_id>/", views.audit_detail, name="audit-detail"),
]
