"""The four prefecture-level cities without counties (东莞, 中山, 儋州, 嘉峪关) become the
county level of the tree (path of 6 digits, under the province), as rules.level_of_code now
says. Before, their towns were refused, so nothing can hang below such a stored city."""

from django.db import migrations

CITIES = ("441900", "442000", "460400", "620200")


def cities_act_as_counties(apps, schema_editor):
    Place = apps.get_model("places", "Place")
    for city in CITIES:
        place = Place.objects.filter(code=city + "000000").first()
        if place is None or place.level == "county":
            continue
        province = Place.objects.filter(code=city[:2] + "0" * 10).first()
        place.level, place.path, place.parent = "county", city, province
        place.save(update_fields=["level", "path", "parent"])


class Migration(migrations.Migration):
    dependencies = [("places", "0002_place_place_path_like")]

    operations = [migrations.RunPython(cities_act_as_counties, migrations.RunPython.noop)]
