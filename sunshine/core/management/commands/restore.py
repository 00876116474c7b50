"""`sunshine restore FILE [--force]`: check an archive, then restore the database and files."""

import sys

from django.core.management.base import BaseCommand, CommandError

from sunshine.core import auditchain, backup
from sunshine.core.errors import ServiceError


class Command(BaseCommand):
    help = (
        "从 sunshine backup 做的备份恢复：先核对清单里每个成员的校验值，再恢复数据库和文件，"
        "最后核对每张表的行数和审计日志哈希链。恢复前请停止网站和任务进程。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--force", action="store_true", help="目标数据库已有数据时，用备份覆盖它"
        )

    def handle(self, *args, file, force=False, **options):
        try:
            result = backup.backup_restore(archive=file, force=force)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        m = result.manifest
        tables = m["database"]["tables"]
        self.stdout.write(
            f"已从 {file}（{m['created_at']} 备份）恢复 {len(tables)} 张表、"
            f"{sum(tables.values())} 行，文件 {result.files} 个；行数与清单一致。"
        )
        for note in result.notes:
            self.stdout.write(note)
        report = auditchain.verify()
        if not report.ok:
            self.stderr.write(f"审计日志哈希链断开：{report.broken}")
            sys.exit(1)
        head = m["database"].get("audit_chain") or {}
        if head.get("links") and (report.links, report.head_hash) != (
            head["links"],
            head["head_hash"],
        ):
            self.stderr.write(
                f"审计日志哈希链的链头与备份清单不符：清单第 {head['links']} 环，"
                f"恢复后第 {report.links} 环。"
            )
            sys.exit(1)
        self.stdout.write(f"审计日志哈希链完好：共 {report.links} 环。")
