"""Raw statements on Django's own connection (so inside its transaction), for the few hot
set-based statements of the SMS dispatcher; and the two helpers of bulk work on any database:
IN lists cut to the database's variable limit (in_chunks) and per-row updates sent with one
executemany (update_many).

On PostgreSQL the cursor binds on the server: the parameters travel apart from the statement
instead of being quoted into it by psycopg on every call, which cost more CPU than the rest of
a claim of 500; and `execute(..., prepared=True)` runs it as a prepared statement, planned once
per session. (Django's execute wrappers and query log do not see these statements.) Elsewhere
it is Django's own cursor."""

from django.db import connection


def cursor():
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    conn = connection.connection
    if conn.prepare_threshold is None:
        # Django turns psycopg's prepared statements off; with a threshold no statement
        # reaches, only those executed with prepare=True are prepared.
        conn.prepare_threshold = 2**31 - 1
    return psycopg.Cursor(conn)


def execute(cur, statement: str, args=None, *, prepared: bool = False):
    """Run `statement` on a cursor from cursor(); `prepared` (PostgreSQL): as a prepared
    statement, for one that runs at every round of a loop."""
    if prepared and connection.vendor == "postgresql":
        return cur.execute(statement, args, prepare=True)
    return cur.execute(statement, args)


def in_chunks(values, *, reserve: int = 0):
    """`values` (any iterable) in lists short enough for one `IN (…)` list on this database,
    with `reserve` variables left for the rest of the statement. SQLite refuses a statement
    with more variables than it was built for (999 on old builds, 32,766 or 250,000 on newer
    ones: Django assumes 999); PostgreSQL has no such limit, but long lists plan slowly."""
    size = max(1, (connection.features.max_query_params or 10_000) - reserve)
    chunk = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def update_many(model, fields: list[str], rows) -> int:
    """`UPDATE <table> SET f1 = %s, … WHERE pk = %s` once per row of (value, …, pk), sent
    with executemany: one statement planned once. Django's bulk_update writes one CASE WHEN
    per field over the whole batch instead, whose cost grows with the square of the batch
    (a yearly re-import of the division table spent most of its time there)."""
    meta = model._meta
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(meta.get_field(f).column)} = %s" for f in fields)
    statement = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"
    rows = list(rows)
    if rows:
        with connection.cursor() as cur:
            cur.executemany(statement, rows)
    return len(rows)


def insert_many(model, fields: list[str], rows) -> int:
    """`INSERT INTO <table> (f1, …) VALUES (%s, …)` once per row of values, sent with
    executemany. Rows are given as the database takes them (no field conversion: strings,
    numbers, None, aware datetimes); for bulk loads where bulk_create's per-value compiling
    costs more than the insert itself (the whole country's division table)."""
    meta = model._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(f).column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    statement = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({marks})"
    rows = list(rows)
    if rows:
        with connection.cursor() as cur:
            cur.executemany(statement, rows)
    return len(rows)
