from django.urls import path

from sunshine.people.views import staff

app_name = "people"
urlpatterns = [
    path("", staff.resident_list, name="staff-resident-list"),
    path("new/", staff.resident_create, name="staff-resident-create"),
    path("export.xlsx", staff.resident_export_xlsx, name="staff-resident-export-xlsx"),
    path("export.csv", staff.resident_export_csv, name="staff-resident-export-csv"),
    path("import/", staff.resident_import, name="staff-resident-import"),
    path(
        "import/template.xlsx",
        staff.resident_import_template,
        name="staff-resident-import-template",
    ),
    path("<int:resident_id>/", staff.resident_detail, name="staff-resident-detail"),
    path("<int:resident_id>/edit/", staff.resident_edit, name="staff-resident-edit"),
    path(
        "<int:resident_id>/identifiers/",
        staff.resident_identifiers,
        name="staff-resident-identifiers",
    ),
]
