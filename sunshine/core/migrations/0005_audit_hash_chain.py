"""The audit log's hash chain (docs/audit.md) and the last ways around its append-only rule.

- A database trigger queues every new entry for sealing (core_auditpending), inside the
  inserting transaction: the sealer sees an entry exactly when it is committed.
- core_auditseal, the chain, is append-only like the log.
- SQLite: INSERT OR REPLACE / REPLACE INTO deleted the old row without firing the delete
  trigger; a BEFORE INSERT trigger now refuses any insert whose key is already taken.
  (UPDATE OR REPLACE is an UPDATE and already meets the update trigger; PostgreSQL's
  INSERT … ON CONFLICT DO UPDATE fires the BEFORE UPDATE trigger of 0002.)
- Entries written before this migration are queued, so the first sealing round chains them.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE = [
    "CREATE TRIGGER core_auditentry_no_replace BEFORE INSERT ON core_auditentry "
    "WHEN EXISTS (SELECT 1 FROM core_auditentry WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER core_auditentry_queue_seal AFTER INSERT ON core_auditentry "
    "BEGIN INSERT INTO core_auditpending (entry_id) VALUES (NEW.id); END;",
    "CREATE TRIGGER core_auditseal_no_update BEFORE UPDATE ON core_auditseal "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER core_auditseal_no_delete BEFORE DELETE ON core_auditseal "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER core_auditseal_no_replace BEFORE INSERT ON core_auditseal "
    "WHEN EXISTS (SELECT 1 FROM core_auditseal WHERE seq = NEW.seq OR entry_id = NEW.entry_id) "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "INSERT INTO core_auditpending (entry_id) SELECT id FROM core_auditentry;",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditentry_no_replace;",
    "DROP TRIGGER IF EXISTS core_auditentry_queue_seal;",
    "DROP TRIGGER IF EXISTS core_auditseal_no_update;",
    "DROP TRIGGER IF EXISTS core_auditseal_no_delete;",
    "DROP TRIGGER IF EXISTS core_auditseal_no_replace;",
]
POSTGRES = [
    "CREATE OR REPLACE FUNCTION core_auditentry_queue_seal() RETURNS trigger AS $$ "
    "BEGIN INSERT INTO core_auditpending (entry_id) VALUES (NEW.id); RETURN NULL; END; "
    "$$ LANGUAGE plpgsql;",
    "CREATE TRIGGER core_auditentry_queue_seal AFTER INSERT ON core_auditentry "
    "FOR EACH ROW EXECUTE FUNCTION core_auditentry_queue_seal();",
    # core_auditentry_append_only() comes from 0002.
    "CREATE TRIGGER core_auditseal_no_change BEFORE UPDATE OR DELETE ON core_auditseal "
    "FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only();",
    "INSERT INTO core_auditpending (entry_id) SELECT id FROM core_auditentry;",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS core_auditentry_queue_seal ON core_auditentry;",
    "DROP FUNCTION IF EXISTS core_auditentry_queue_seal();",
    "DROP TRIGGER IF EXISTS core_auditseal_no_change ON core_auditseal;",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_auditentry_audit_path_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditPending",
            fields=[
                (
                    "entry",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="core.auditentry",
                        verbose_name="审计日志",
                    ),
                ),
            ],
            options={
                "verbose_name": "待封存审计日志",
                "verbose_name_plural": "待封存审计日志",
            },
        ),
        migrations.CreateModel(
            name="AuditSeal",
            fields=[
                (
                    "seq",
                    models.PositiveBigIntegerField(
                        primary_key=True, serialize=False, verbose_name="环序号"
                    ),
                ),
                ("prev_hash", models.CharField(max_length=64, verbose_name="前一环哈希")),
                ("hash", models.CharField(max_length=64, verbose_name="本环哈希")),
                ("sealed_at", models.DateTimeField(verbose_name="封存时间")),
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="seal",
                        to="core.auditentry",
                        verbose_name="审计日志",
                    ),
                ),
            ],
            options={
                "verbose_name": "审计日志封存",
                "verbose_name_plural": "审计日志封存",
                "ordering": ["seq"],
            },
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
