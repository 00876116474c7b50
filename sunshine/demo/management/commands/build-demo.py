import sys

from django.core.management.base import BaseCommand, CommandError

from sunshine.demo import builder


class Command(BaseCommand):
    help = "生成演示县（确定性：同一个种子生成同样的数据）。已存在时不重复生成。"

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument(
            "--counties", type=int, default=1, help="县的数量，用于省级规模测试（默认 1）"
        )
        parser.add_argument(
            "--residents", type=int, default=0, help="演示居民人数（居民登记模块提供）"
        )
        parser.add_argument("--if-absent", action="store_true", help="演示数据已存在时直接退出")

    def handle(self, *args, seed, counties, residents, if_absent, **opts):
        if builder.demo_exists():
            if if_absent:
                self.stdout.write("演示县已存在，跳过生成。")
                return
            raise CommandError(
                "演示县已存在。如需重建，请先删除数据库文件（var/sunshine.sqlite3）。"
            )

        def progress(done, total):
            width = 30
            filled = width * done // total
            sys.stderr.write(
                f"\r生成区划 [{'#' * filled}{'.' * (width - filled)}] {done}/{total} 个县"
            )
            if done == total:
                sys.stderr.write("\n")

        try:
            report = builder.build(
                seed=seed, counties=counties, residents=residents, progress=progress
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"已生成 {report.counties} 个演示县，共 {report.places} 个地方，{report.items} 个公开事项。"
        )
        self.stdout.write(f"演示账号（密码均为 {builder.DEMO_PASSWORD}）：")
        for username, role, place in report.users:
            self.stdout.write(f"  {username:<10} {role}（{place}）")
