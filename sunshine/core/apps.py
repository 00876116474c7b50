from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sunshine.core"
    verbose_name = "基础"

    def ready(self):
        from sunshine.core import exports, signals  # noqa: F401 - exports registers its job runner
