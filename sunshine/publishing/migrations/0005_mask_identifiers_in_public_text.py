"""Mask the full ID numbers and mobile numbers already stored in public text (docs/privacy.md).

Before 2026-12-05 a table pasted into an item kept its 身份证号码 column in full, and free
text was not checked. Every text the publication pipeline shows is masked here once, in
every version (published ones too: a published version is otherwise never edited, but a
full ID number on a public page is a leak to stop, not history to keep), so that the board,
posters, feeds, the open-data API and press copy never show one. The list entries' own
id_number column stays full: staff with the identifiers role read it, audited, and public
output masks it. Running it twice changes nothing more.
"""

from django.db import migrations

from sunshine.core import identifiers


def _mask_rows(model, fields, *, table=None):
    for row in model.objects.only("pk", *fields, *([table] if table else [])).iterator():
        changed = {}
        for field in fields:
            value = getattr(row, field) or ""
            masked = identifiers.mask_text(value)[0]
            if masked != value:
                changed[field] = masked
        if table:
            masked, counts = identifiers.mask_table(getattr(row, table))
            if counts:
                changed[table] = masked
        if changed:
            model.objects.filter(pk=row.pk).update(**changed)


def mask(apps, schema_editor):
    _mask_rows(
        apps.get_model("publishing", "ItemVersion"),
        ["title", "summary", "body", "change_note"],
        table="table",
    )
    _mask_rows(apps.get_model("publishing", "Item"), ["outcome", "spokesperson"])
    _mask_rows(apps.get_model("publishing", "ListEntry"), ["place_name", "matter"])
    _mask_rows(apps.get_model("publishing", "Objection"), ["answer"])
    _mask_rows(apps.get_model("publishing", "Attachment"), ["title"])


class Migration(migrations.Migration):
    dependencies = [
        ("publishing", "0004_objection_created_at"),
    ]

    operations = [migrations.RunPython(mask, migrations.RunPython.noop, elidable=True)]
