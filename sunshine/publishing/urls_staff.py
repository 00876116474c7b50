"""Staff routes of the publication pipeline, mounted at /staff/publishing/ inside the
"publishing" namespace (see sunshine.publishing.urls)."""

from django.urls import path

from sunshine.publishing.views import staff

app_name = "publishing"
urlpatterns = [
    path("", staff.item_list, name="staff-item-list"),
    path("export.xlsx", staff.item_export_xlsx, name="staff-item-export-xlsx"),
    path("export.csv", staff.item_export_csv, name="staff-item-export-csv"),
    path("new/", staff.item_create, name="staff-item-create"),
    path("review/", staff.review_queue, name="staff-review-queue"),
    path("posters/", staff.poster_batch, name="staff-poster-batch"),
    path("categories/", staff.category_list, name="staff-category-list"),
    path("objections/", staff.objection_list, name="staff-objection-list"),
    path(
        "objections/<int:objection_id>/",
        staff.objection_detail,
        name="staff-objection-detail",
    ),
    path(
        "objections/<int:objection_id>/contact/",
        staff.objection_contact,
        name="staff-objection-contact",
    ),
    path(
        "objections/<int:objection_id>/answer/",
        staff.objection_answer,
        name="staff-objection-answer",
    ),
    path(
        "attachments/<int:attachment_id>/",
        staff.attachment_file,
        name="staff-attachment",
    ),
    path("<int:item_id>/", staff.item_detail, name="staff-item-detail"),
    path("<int:item_id>/edit/", staff.item_edit, name="staff-item-edit"),
    path("<int:item_id>/submit/", staff.item_submit, name="staff-item-submit"),
    path("<int:item_id>/return/", staff.item_return, name="staff-item-return"),
    path("<int:item_id>/publish/", staff.item_publish, name="staff-item-publish"),
    path("<int:item_id>/correct/", staff.item_correct, name="staff-item-correct"),
    path("<int:item_id>/withdraw/", staff.item_withdraw, name="staff-item-withdraw"),
    path("<int:item_id>/archive/", staff.item_archive, name="staff-item-archive"),
    path("<int:item_id>/finalise/", staff.item_finalise, name="staff-item-finalise"),
    path("<int:item_id>/entries/", staff.item_entry_add, name="staff-item-entry-add"),
    path(
        "<int:item_id>/entries/identifiers/",
        staff.item_entry_identifiers,
        name="staff-item-entry-identifiers",
    ),
    path(
        "<int:item_id>/attachments/",
        staff.item_attachment_add,
        name="staff-item-attachment-add",
    ),
    path("<int:item_id>/poster.pdf", staff.item_poster, name="staff-item-poster"),
    path("<int:item_id>/press.txt", staff.item_press_text, name="staff-item-press-text"),
    path("<int:item_id>/press.pdf", staff.item_press_pdf, name="staff-item-press-pdf"),
]
