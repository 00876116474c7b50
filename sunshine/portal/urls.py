from django.urls import path

from sunshine.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("p/<str:code>/", views.place_board, name="board"),
    path("p/<str:code>/subscribe/", views.board_subscribe, name="board-subscribe"),
    path("contacts/", views.contacts, name="contacts"),
    path("care/", views.care_toggle, name="care"),
]
