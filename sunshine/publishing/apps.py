from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "sunshine.publishing"
    verbose_name = "公开发布"

    def ready(self):
        from sunshine.publishing import (  # noqa: F401 - export source, poster runner, SMS objections, periodic publishing
            exports,
            jobs,
            signals,
            tasks,
        )
