from django.urls import path

from sunshine.publishing.views import public

app_name = "publishing"
urlpatterns = [
    path("i/<str:public_id>/", public.item_detail, name="item"),
    path("i/<str:public_id>/v/<int:number>/", public.item_version, name="item-version"),
    path("a/<int:attachment_id>/", public.attachment, name="attachment"),
    path("spokesperson/", public.spokesperson, name="spokesperson"),
    path("objection/", public.objection_lookup, name="objection-lookup"),
    path("objection/<str:tracking_code>/", public.objection_status, name="objection"),
    path("p/<str:code>/feed.atom", public.BoardFeed(), name="board-feed"),
    path("p/<str:code>/poster.pdf", public.board_poster, name="board-poster"),
]
