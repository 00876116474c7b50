from sunshine.core import jobs
from sunshine.places import importing, services


@jobs.runner("places.import")
def run_division_import(job, progress) -> str:
    progress(0, 0, "读取文件")
    try:
        result = importing.import_division_table(
            actor=job.created_by,
            path=job.input_file.path,
            filename=job.input_name,
            progress=progress,
        )
    except services.RowsRefused as exc:
        raise jobs.JobFailed(
            f"有 {len(exc.problems)} 处错误，没有导入任何数据。请改正后重新上传。",
            errors=exc.problems,
        ) from None
    job.result = {
        "total": result.total,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    return importing.summary(result)
