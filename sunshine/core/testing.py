"""The shared test world (STYLE 'Tests'): two counties, towns, villages, groups, units,
residences, one user per role in town/county A and outsiders elsewhere.

Names carry markers so a leak is easy to see: everything in the other town (A2) contains
"外镇" and its codes start with OTHER_PREFIX; everything in county B contains "乙县".
"""

from dataclasses import dataclass

from sunshine.core.validators import id_check_char
from sunshine.places.services import PlaceRow

PASSWORD = "test-pass-2026"
OWN_PREFIX = "980101100"
OTHER_PREFIX = "980101101"
OTHER_MARKERS = ("外镇", OTHER_PREFIX)
OTHER_COUNTY_MARKERS = ("乙县", "980102")

ROWS = [
    ("980000000000", "测试省"),
    ("980100000000", "测试市"),
    ("980101000000", "甲县"),
    ("980101100000", "本镇"),
    ("980101100001", "本镇一村"),
    ("980101100001001", "本镇一村第1组"),
    ("980101100001002", "本镇一村第2组"),
    ("980101100002", "本镇二村"),
    ("980101100U001", "本镇卫生院"),
    ("980101100R001", "本镇安置小区"),
    ("980101100001R001", "本镇一村花园"),
    ("980101101000", "外镇"),
    ("980101101001", "外镇一村"),
    ("980101101001001", "外镇一村第1组"),
    ("980101101U001", "外镇卫生院"),
    ("980101101R001", "外镇职工宿舍"),
    ("980102000000", "乙县"),
    ("980102100000", "乙县城关镇"),
    ("980102100001", "乙县城关镇一村"),
]


@dataclass
class World:
    places: dict
    users: dict
    residents: dict

    def place(self, code):
        return self.places[code]

    @property
    def county(self):
        return self.places["980101000000"]

    @property
    def town(self):
        return self.places["980101100000"]

    @property
    def village(self):
        return self.places["980101100001"]

    @property
    def other_town(self):
        return self.places["980101101000"]

    @property
    def other_village(self):
        return self.places["980101101001"]

    @property
    def other_county(self):
        return self.places["980102000000"]


def build_world() -> World:
    from sunshine.accounts import roles
    from sunshine.accounts import services as account_services
    from sunshine.accounts.models import User
    from sunshine.places import services as place_services
    from sunshine.places.models import Place

    place_services.place_bulk_create(actor=None, rows=[PlaceRow(c, n) for c, n in ROWS])
    places = {p.code: p for p in Place.objects.all()}
    county, town, village = places["980101000000"], places["980101100000"], places["980101100001"]
    specs = {
        "county_admin": (roles.COUNTY_ADMIN, county),
        "county_clerk": (roles.COUNTY_CLERK, county),
        "town_clerk": (roles.TOWN_CLERK, town),
        "village_cadre": (roles.VILLAGE_CADRE, village),
        "clinic_doctor": (roles.CLINIC_DOCTOR, town),
        "call_operator": (roles.CALL_OPERATOR, county),
        "discipline_inspector": (roles.DISCIPLINE_INSPECTOR, county),
        "observer": (roles.OBSERVER, county),
        "outsider": (roles.TOWN_CLERK, places["980101101000"]),
        "other_village_cadre": (roles.VILLAGE_CADRE, places["980101101001"]),
        "other_county_admin": (roles.COUNTY_ADMIN, places["980102000000"]),
    }
    users = {}
    for key, (role, place) in specs.items():
        label = {
            "outsider": "外镇专干",
            "other_village_cadre": "外镇村干部",
            "other_county_admin": "乙县管理员",
        }.get(key, f"本地{key}")
        users[key] = account_services.user_create(
            actor=None, username=key, password=PASSWORD, role=role, place=place, full_name=label
        )
    # A probe with every capability but scoped to town A: proves scoping apart from roles.
    probe = User(username="probe", is_superuser=True, is_staff=True, place=town, full_name="探针")
    probe.set_password(PASSWORD)
    probe.save()
    users["probe"] = probe
    from sunshine.people import services as people_services
    from sunshine.publishing import services as publishing_services

    publishing_services.categories_ensure()
    # Seeded by migration, gone after a transactional test's flush: put the catalogue back.
    from sunshine.precheck import catalogue
    from sunshine.precheck.models import CheckItem

    catalogue.load(CheckItem)

    residents = {}
    for key, name, body, sex, code in [
        ("own", "本镇居民甲", "98010119900307001", "男", "980101100001001"),
        ("own2", "本镇居民乙", "98010119920511002", "女", "980101100001002"),
        ("other", "外镇居民丙", "98010119850101003", "男", "980101101001001"),
    ]:
        residents[key] = people_services.resident_create(
            actor=None,
            data={
                "name": name,
                "sex": sex,
                "id_number": body + id_check_char(body),
                "place_code": code,
                "mobile": "13800001234" if key == "own" else "13912345678",
                "household_number": f"H{key}",
            },
        )
    place_services.contact_create(actor=None, place=town, department="本镇卫健办", phone="0000-1")
    place_services.contact_create(
        actor=None, place=places["980101101000"], department="外镇卫健办", phone="0000-2"
    )
    return World(places=places, users=users, residents=residents)
