"""The SMS desk, mounted at /staff/sms/ (config/urls.py) in its own namespace: the gateway
callbacks keep the "messaging" namespace at the site root."""

from django.urls import path

from sunshine.messaging.views import staff

app_name = "messaging_staff"
urlpatterns = [
    path("", staff.outbox, name="outbox"),
    path("export.xlsx", staff.outbox_export_xlsx, name="outbox-export-xlsx"),
    path("export.csv", staff.outbox_export_csv, name="outbox-export-csv"),
    path("messages/<int:message_id>/", staff.message_detail, name="message-detail"),
    path("messages/<int:message_id>/mobile/", staff.message_mobile, name="message-mobile"),
    path("send/", staff.test_send, name="test-send"),
    path("calls/", staff.call_list, name="call-list"),
    path("calls/<int:task_id>/", staff.call_detail, name="call-detail"),
    path("calls/<int:task_id>/close/", staff.call_close, name="call-close"),
    path("calls/<int:task_id>/mobile/", staff.call_mobile, name="call-mobile"),
    path("replies/", staff.reply_list, name="reply-list"),
    path("replies/<int:reply_id>/", staff.reply_detail, name="reply-detail"),
    path("replies/<int:reply_id>/handle/", staff.reply_handle, name="reply-handle"),
    path("replies/<int:reply_id>/mobile/", staff.reply_mobile, name="reply-mobile"),
    path("templates/", staff.template_list, name="template-list"),
    path("templates/new/", staff.template_create, name="template-create"),
    path("templates/preview/", staff.template_preview, name="template-preview"),
    path("templates/<slug:template_code>/", staff.template_edit, name="template-edit"),
    path("ledger/", staff.ledger, name="ledger"),
    path("ledger.xlsx", staff.ledger_export_xlsx, name="ledger-export-xlsx"),
]
