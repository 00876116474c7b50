from django.apps import AppConfig


class PrecheckConfig(AppConfig):
    name = "sunshine.precheck"
    verbose_name = "孕前优生检查（好孕好运）"

    def ready(self):
        from sunshine.precheck import signals  # noqa: F401 - registers the SMS answer handler
