from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "sunshine.demo"
    verbose_name = "演示数据"
