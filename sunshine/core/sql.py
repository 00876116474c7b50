"""Raw statements on Django's own connection (so inside its transaction), for the few hot
set-based statements of the SMS dispatcher.

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
