from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sunshine.accounts"
    verbose_name = "工作人员"
