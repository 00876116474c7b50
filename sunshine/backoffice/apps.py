from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "sunshine.backoffice"
    verbose_name = "工作台"

    def ready(self):
        from sunshine.backoffice import exports  # noqa: F401 - the places and audit exports
