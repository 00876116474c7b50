from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "sunshine.people"
    verbose_name = "居民"

    def ready(self):
        from sunshine.people import jobs  # noqa: F401 - registers the import runner
