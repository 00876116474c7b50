from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "sunshine.portal"
    verbose_name = "门户"
