"""Import of the official division table (统计用区划代码): code, name, urban-rural code, year."""

from pathlib import Path

from sunshine.core.errors import ServiceError
from sunshine.core.tabular import TableError, column_map, open_table
from sunshine.places import services

COLUMNS = {
    "code": ("统计用区划代码", "区划代码", "代码", "code"),
    "name": ("名称", "name"),
    "urban_rural_code": ("城乡分类代码", "urban_rural_code", "城乡分类"),
    "code_year": ("年份", "代码年份", "year"),
}


def read_division_rows(
    path: str | Path, *, filename: str | None = None
) -> tuple[list[services.PlaceRow], list[str]]:
    """Rows of a division table and a list of Chinese errors naming row and code."""
    table = open_table(path, filename=filename)
    cols = column_map(table.headers, COLUMNS, required={"code", "name"})
    rows, errors = [], []
    for number, cells in table.rows:

        def get(field, cells=cells):
            i = cols.get(field)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        code, year = get("code"), get("code_year")
        urc = get("urban_rural_code")
        if urc and not (len(urc) == 3 and urc.isascii() and urc.isdigit()):
            errors.append(f"第{number}行：城乡分类代码 {urc} 应为3位数字。")
        if year and not (year.isdigit() and 1980 <= int(year) <= 2100):
            errors.append(f"第{number}行：年份 {year} 不正确。")
            year = ""
        rows.append(
            services.PlaceRow(
                code=code,
                name=get("name"),
                urban_rural_code=urc,
                code_year=int(year) if year else None,
            )
        )
    return rows, errors


def import_division_table(
    *, actor, path: str | Path, filename: str | None = None, progress=None
) -> services.BulkResult:
    """All or nothing: any bad row → nothing written and every error reported (RowsRefused,
    a ServiceError whose `problems` lists them)."""
    try:
        rows, errors = read_division_rows(path, filename=filename)
    except TableError as exc:
        raise ServiceError(exc.message) from None
    if errors:
        raise services.RowsRefused(errors)
    if not rows:
        raise ServiceError("表格中没有数据行。")
    return services.place_bulk_write(
        actor=actor, rows=rows, action="place.import", update_existing=True, progress=progress
    )


def summary(result: services.BulkResult) -> str:
    return (
        f"已导入 {result.total} 个地方：新增 {result.created} 个，更新 {result.updated} 个，"
        f"{result.unchanged} 个没有变化。"
    )
