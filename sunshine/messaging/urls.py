from django.urls import path

from sunshine.messaging.views import callbacks

app_name = "messaging"
urlpatterns = [
    path("sms/receipts/<str:token>/", callbacks.receipts, name="receipts"),
    path("sms/replies/<str:token>/", callbacks.replies, name="replies"),
]
