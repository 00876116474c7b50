from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "sunshine.messaging"
    verbose_name = "短信"

    def ready(self):
        from sunshine.messaging import tasks  # noqa: F401 - periodic dispatch
