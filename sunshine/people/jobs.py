from pathlib import Path

from django.core.files import File

from sunshine.core import jobs
from sunshine.people import importing


@jobs.runner("people.import")
def run_resident_import(job, progress) -> str:
    partial = bool(job.options.get("partial"))
    try:
        result = importing.import_residents(
            actor=job.created_by,
            path=job.input_file.path,
            filename=job.input_name,
            partial=partial,
            progress=progress,
        )
    except importing.ImportRefused as exc:
        _attach(job, exc.result)
        raise jobs.JobFailed(exc.message, errors=exc.result.errors) from None
    _attach(job, result)
    job.errors = result.errors
    message = (
        f"共 {result.rows} 行：新增 {result.created} 人，更新 {result.updated} 人，"
        f"新建 {result.households_created} 户。"
    )
    if result.error_rows:
        message += (
            f"另有 {result.error_rows} 行有错误，没有导入，请下载错误文件改正后再导入这些行。"
        )
    return message


def _attach(job, result: importing.ImportResult) -> None:
    job.result = {
        "total": result.rows,
        "created": result.created,
        "updated": result.updated,
        "households_created": result.households_created,
        "error_rows": result.error_rows,
        "partial": result.partial,
    }
    if result.error_file:
        with open(result.error_file, "rb") as fh:
            job.result_file.save(f"错误行-{job.pk}.xlsx", File(fh), save=False)
        Path(result.error_file).unlink(missing_ok=True)
