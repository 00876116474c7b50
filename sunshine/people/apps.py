from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "sunshine.people"
    verbose_name = "居民"

    def ready(self):
        from sunshine.people import exports, jobs  # noqa: F401 - the export source, the import runner
