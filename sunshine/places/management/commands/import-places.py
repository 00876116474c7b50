from django.core.management.base import BaseCommand, CommandError

from sunshine.core.errors import ServiceError
from sunshine.places import importing


class Command(BaseCommand):
    help = "导入统计用区划代码表（.xlsx 或 .csv；列：统计用区划代码、名称、城乡分类代码、年份）。有错则全部不导入。"

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **opts):
        try:
            n = importing.import_division_table(actor=None, path=file)
        except FileNotFoundError:
            raise CommandError(f"找不到文件：{file}") from None
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"已导入 {n} 个地方。")
