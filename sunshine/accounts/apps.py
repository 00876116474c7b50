from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sunshine.accounts"
    verbose_name = "工作人员"

    def ready(self):
        from sunshine.accounts import checks  # noqa: F401  (registers the system checks)
