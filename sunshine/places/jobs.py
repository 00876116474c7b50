from sunshine.core import jobs
from sunshine.core.tabular import TableError
from sunshine.places import importing, services


@jobs.runner("places.import")
def run_division_import(job, progress) -> str:
    progress(0, 0, "读取文件")
    try:
        rows, errors = importing.read_division_rows(job.input_file.path, filename=job.input_name)
    except TableError as exc:
        raise jobs.JobFailed(exc.message) from None
    if errors:
        raise jobs.JobFailed(
            f"有 {len(errors)} 处错误，没有导入任何数据。请改正后重新上传。", errors=errors
        )
    if not rows:
        raise jobs.JobFailed("表格中没有数据行。")
    _, problems = services.validate_rows(
        rows, existing=importing.existing_for(rows), allow_existing=True
    )
    if problems:
        raise jobs.JobFailed(
            f"有 {len(problems)} 处错误，没有导入任何数据。请改正后重新上传。", errors=problems
        )
    n = services.place_bulk_create(
        actor=job.created_by,
        rows=rows,
        action="place.import",
        update_existing=True,
        progress=progress,
    )
    job.result = {"total": n}
    return f"已导入 {n} 个地方（新增或更新）。"
