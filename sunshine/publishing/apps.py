from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "sunshine.publishing"
    verbose_name = "公开发布"

    def ready(self):
        from sunshine.publishing import jobs  # noqa: F401 - registers the poster batch runner
