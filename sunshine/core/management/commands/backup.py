"""`sunshine backup [--output FILE] [--include-secrets]`: one archive of the database and files."""

from django.core.management.base import BaseCommand, CommandError

from sunshine.core import backup
from sunshine.core.errors import ServiceError


class Command(BaseCommand):
    help = (
        "备份数据库（SQLite 在线备份或 pg_dump）和上传、生成的文件，连同清单（行数、校验值）"
        "打成一个 .tar.gz。默认不含密钥。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", help="备份文件路径（默认：SUNSHINE_BACKUP_DIR/sunshine-日期-时间.tar.gz）"
        )
        parser.add_argument(
            "--include-secrets",
            action="store_true",
            help="把 SECRET_KEY 和 var/ 下的密钥文件也放进备份（备份文件须像密钥一样保管）",
        )

    def handle(self, *args, output=None, include_secrets=False, **options):
        try:
            result = backup.backup_create(output=output, include_secrets=include_secrets)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        m = result.manifest
        tables = m["database"]["tables"]
        files = sum(1 for name in m["members"] if name.startswith("media/"))
        self.stdout.write(
            f"已备份到 {result.path}：{m['database']['engine']} 数据库 {len(tables)} 张表、"
            f"{sum(tables.values())} 行，文件 {files} 个"
            + ("，含密钥" if include_secrets else "，不含密钥")
            + "。"
        )
