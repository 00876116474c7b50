from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "sunshine.places"
    verbose_name = "区划"
