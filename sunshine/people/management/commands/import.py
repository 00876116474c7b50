"""`sunshine import residents FILE [--partial]` and `sunshine import places FILE`."""

import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sunshine.core.errors import ServiceError


def bar(done: int, total: int, stage: str) -> None:
    width = 30
    frac = done / total if total else 0
    sys.stderr.write(
        f"\r{stage} [{'#' * int(width * frac)}{'.' * (width - int(width * frac))}] "
        f"{done}/{total or '?'} 行"
    )
    sys.stderr.flush()


class Command(BaseCommand):
    help = "导入表格：residents（居民，.xlsx/.csv）或 places（统计用区划代码表）。默认有错则全部不导入。"

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["residents", "places"])
        parser.add_argument("file")
        parser.add_argument(
            "--partial", action="store_true", help="只导入正确的行，错误行写入错误文件"
        )
        parser.add_argument("--errors", help="错误文件保存到这里（默认：与导入文件同目录）")

    def handle(self, *args, kind, file, partial, errors, **opts):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        if kind == "places":
            from sunshine.places import importing as place_importing

            try:
                result = place_importing.import_division_table(actor=None, path=path, progress=bar)
            except ServiceError as exc:
                sys.stderr.write("\n")
                raise CommandError(exc.message) from None
            sys.stderr.write("\n")
            self.stdout.write(place_importing.summary(result))
            return
        from sunshine.people import importing

        target = Path(errors) if errors else path.with_name(path.stem + "-错误行.xlsx")
        try:
            result = importing.import_residents(
                actor=None, path=path, partial=partial, progress=bar
            )
        except importing.ImportRefused as exc:
            sys.stderr.write("\n")
            self._save_errors(exc.result, target)
            raise CommandError(exc.message) from None
        sys.stderr.write("\n")
        self.stdout.write(
            f"共 {result.rows} 行：新增 {result.created} 人，更新 {result.updated} 人，"
            f"新建 {result.households_created} 户。"
        )
        if result.error_rows:
            self._save_errors(result, target)
            self.stdout.write(f"{result.error_rows} 行有错误，没有导入。")

    def _save_errors(self, result, target: Path) -> None:
        if result.error_file:
            shutil.move(result.error_file, target)
            for e in result.errors[:20]:
                self.stderr.write(f"  第{e['row']}行 {e['column']}：{e['reason']}")
            self.stderr.write(f"错误明细已保存到：{target}")
