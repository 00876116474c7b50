from django.apps import AppConfig


class RhRegistryConfig(AppConfig):
    name = "sunshine.rhregistry"
    verbose_name = "熊猫血友会（Rh阴性互助）"
