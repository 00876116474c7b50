"""Staff routes of the registry (/staff/rh/): every one hidden (404) from roles without
`rh.registry`."""

from django.urls import path

from sunshine.rhregistry.views import staff

app_name = "rhregistry_staff"
urlpatterns = [
    path("", staff.donor_list, name="donor-list"),
    path("new/", staff.donor_create, name="donor-create"),
    path("donors/<int:donor_id>/", staff.donor_detail, name="donor-detail"),
    path(
        "donors/<int:donor_id>/identifiers/",
        staff.donor_identifiers,
        name="donor-identifiers",
    ),
    path("donors/<int:donor_id>/withdraw/", staff.donor_withdraw, name="donor-withdraw"),
    path("search/", staff.search, name="search"),
    path("search/<int:search_id>/", staff.search_results, name="search-results"),
    path("search/<int:search_id>/request/", staff.search_request, name="search-request"),
    path("requests/", staff.request_list, name="request-list"),
    path("requests/<int:request_id>/confirm/", staff.request_confirm, name="request-confirm"),
    path("requests/<int:request_id>/cancel/", staff.request_cancel, name="request-cancel"),
]
