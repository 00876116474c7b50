from django.contrib.auth import views as auth_views
from django.urls import path

from sunshine.backoffice import views

app_name = "backoffice"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.dashboard, name="dashboard"),
    path("places/", views.place_list, name="place-list"),
    path("places/export.xlsx", views.place_export_xlsx, name="place-export-xlsx"),
    path("places/export.csv", views.place_export_csv, name="place-export-csv"),
    path("places/import/", views.place_import, name="place-import"),
    path("places/<str:place_code>/", views.place_detail, name="place-detail"),
    path("users/", views.user_list, name="user-list"),
    path("users/<int:user_id>/", views.user_detail, name="user-detail"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/result/", views.job_result, name="job-result"),
    path("jobs/<int:job_id>/rerun/", views.job_rerun, name="job-rerun"),
    path("audit/", views.audit_list, name="audit-list"),
    path("audit/export.csv", views.audit_export_csv, name="audit-export-csv"),
    path("audit/<int:audit_id>/", views.audit_detail, name="audit-detail"),
]
