from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "sunshine.publishing"
    verbose_name = "公开发布"

    def ready(self):
        from sunshine.publishing import jobs, signals, tasks  # noqa: F401 - poster runner, SMS objections, periodic publishing
