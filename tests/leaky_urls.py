"""A throwaway URL configuration with deliberately unscoped routes: the scope checker must
report them (tests/test_scope_matrix.py)."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from config.urls import urlpatterns as real_patterns
from sunshine.places.models import Place


def leaky_list(request):
    return HttpResponse("\n".join(Place.objects.values_list("name", flat=True)))


def leaky_detail(request, place_code):
    return JsonResponse({"name": get_object_or_404(Place, code=place_code).name})


def leaky_unknown(request, secret_id):
    return HttpResponse("")


urlpatterns = [
    *real_patterns,
    path("staff/leaky/", leaky_list),
    path("staff/leaky/<str:place_code>/", leaky_detail),
    path("staff/leaky-unknown/<int:secret_id>/", leaky_unknown),
]
