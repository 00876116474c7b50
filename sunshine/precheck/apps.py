from django.apps import AppConfig


class PrecheckConfig(AppConfig):
    name = "sunshine.precheck"
    verbose_name = "孕前优生检查（好孕好运）"

    def ready(self):
        from sunshine.precheck import exports, signals  # noqa: F401 - export source, SMS answers
