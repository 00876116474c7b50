from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "sunshine.messaging"
    verbose_name = "短信"

    def ready(self):
        from sunshine.messaging import (
            campaigns,  # noqa: F401 - registers the reschedule job
            checks,  # noqa: F401 - system checks
            exports,  # noqa: F401 - registers the outbox export
            tasks,  # noqa: F401 - periodic dispatch
        )
