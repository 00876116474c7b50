from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "sunshine.backoffice"
    verbose_name = "工作台"
