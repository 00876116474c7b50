"""`sunshine audit-verify`: seal what is waiting, then check the audit log's hash chain.

Exit code 0 when the chain holds, 1 at the first broken link (docs/audit.md).
"""

import sys

from django.core.management.base import BaseCommand
from django.utils import timezone

from sunshine.core import auditchain


class Command(BaseCommand):
    help = "封存待封存的审计日志，再逐环核对哈希链；发现第一处断开即报告并以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="只核对，不先封存（例如核对刚恢复的备份）",
        )

    def handle(self, *args, no_seal=False, **options):
        for entry_id, at in auditchain.overdue():
            self.stderr.write(
                f"提醒：审计日志 #{entry_id}（{timezone.localtime(at):%Y-%m-%d %H:%M:%S}）"
                "超过预期时间仍未封存，请检查任务进程（每分钟封存一次）是否在运行。"
            )
        if not no_seal:
            sealed = auditchain.seal_pending()
            if sealed:
                self.stdout.write(f"先封存了 {sealed} 条新的审计日志。")
        report = auditchain.verify()
        if not report.ok:
            self.stderr.write(f"审计日志哈希链断开：{report.broken}")
            if report.links:
                self.stderr.write(f"此前的 {report.links} 环完好（到第 {report.head_seq} 环）。")
            sys.exit(1)
        self.stdout.write(
            f"审计日志哈希链完好：共 {report.links} 环，"
            f"链头第 {report.head_seq} 环 {auditchain.HASH_NAME} {report.head_hash}。"
        )
