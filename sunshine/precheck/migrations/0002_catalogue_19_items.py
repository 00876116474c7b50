from django.db import migrations


def load(apps, schema_editor):
    from sunshine.precheck import catalogue

    catalogue.load(apps.get_model("precheck", "CheckItem"))


class Migration(migrations.Migration):
    dependencies = [("precheck", "0001_precheck_models")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
