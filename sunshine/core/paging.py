"""Paging of the JSON API: every list route takes `limit` and `offset` within bounds, so a
value such as 2**63 is a 422 with a Chinese message, never a database overflow (a 500)."""

from typing import Annotated

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 1000  # rows in one page
MAX_OFFSET = 10_000_000  # further than any list of a county or a province
MAX_ID = 2**63 - 1  # the largest key SQLite and PostgreSQL (bigint) hold

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="跳过的条数")]
ObjectId = Annotated[int, Field(ge=1, le=MAX_ID, description="编号")]


class LimitOffset(LimitOffsetPagination):
    """ninja's limit/offset paging with an upper bound on both."""

    class Input(Schema):
        limit: Limit = 100
        offset: Offset = 0
