from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "sunshine.places"
    verbose_name = "区划"

    def ready(self):
        from sunshine.places import jobs  # noqa: F401 - registers the import runner
