"""A deterministic synthetic county with Suining's shape (SPEC §0.1).

About 20 towns/streets/parks, 383 villages, about 3,000 groups, units and residences, clearly
fake names; `counties` > 1 makes a province-sized tree for benchmarks. The same seed always
builds the same tree.
"""

import random
from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from sunshine.accounts import roles
from sunshine.accounts import services as account_services
from sunshine.places import services as place_services
from sunshine.places.models import Place
from sunshine.places.services import PlaceRow

PROVINCE_CODE, CITY_CODE = "990000000000", "990100000000"
YEAR = 2026
SYLLABLES = list(
    "桃李梅杏柳松竹荷兰菊枫杨槐桂椿榆芦苇禾丰安宁和平兴盛富康庆瑞祥泰福寿永长青红金银东西南北"
    "新古双高岭河湖塘桥湾坝庄集店营屯岗堡圩"
)
STREETS, TOWNS, PARKS = 5, 13, 2
VILLAGES_PER_COUNTY = 383
DEMO_PASSWORD = "sunshine2026"


@dataclass
class DemoReport:
    counties: int = 0
    places: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, place)
    items: int = 0


def _names(rng: random.Random, n: int, used: set[str]) -> list[str]:
    out = []
    while len(out) < n:
        name = rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
        if name[0] != name[1] and name not in used:
            used.add(name)
            out.append(name)
    return out


def county_rows(
    county_index: int, rng: random.Random, villages: int = VILLAGES_PER_COUNTY
) -> list[PlaceRow]:
    county_code = f"9901{county_index:02d}000000"
    rows = [
        PlaceRow(
            county_code,
            f"阳光{'县' if county_index == 1 else f'{county_index}县'}（演示）",
            code_year=YEAR,
        )
    ]
    used: set[str] = set()
    town_names = _names(rng, STREETS + TOWNS + PARKS, used)
    town_specs = (
        [(f"{i + 1:03d}", "街道") for i in range(STREETS)]
        + [(f"{101 + i:03d}", "镇") for i in range(TOWNS)]
        + [(f"{400 + i:03d}", "园区") for i in range(PARKS)]
    )
    n_towns = len(town_specs)
    per_town = [villages // n_towns + (1 if i < villages % n_towns else 0) for i in range(n_towns)]
    for (seg, kind), tname, n_villages in zip(town_specs, town_names, per_town, strict=True):
        town_code = county_code[:6] + seg + "000"
        town_name = tname + kind
        rows.append(PlaceRow(town_code, town_name, code_year=YEAR))
        village_names = _names(rng, n_villages, used)
        for v in range(n_villages):
            is_community = kind == "街道" or v < 2
            vseg = f"{v + 1:03d}" if is_community else f"{200 + v:03d}"
            vcode = town_code[:9] + vseg
            urc = "111" if kind == "街道" else ("121" if is_community else "220")
            rows.append(
                PlaceRow(
                    vcode,
                    village_names[v] + ("社区" if is_community else "村"),
                    urban_rural_code=urc,
                    code_year=YEAR,
                )
            )
            for g in range(rng.randint(5, 11)):
                rows.append(PlaceRow(vcode + f"{g + 1:03d}", f"第{g + 1}组"))
            if is_community and rng.random() < 0.5:
                rows.append(PlaceRow(vcode + "R001", f"{village_names[v]}花园小区"))
        prefix = town_code[:9]
        rows += [
            PlaceRow(prefix + "U001", f"{town_name}卫生院"),
            PlaceRow(prefix + "U002", f"{town_name}中心小学"),
            PlaceRow(prefix + "U003", f"{tname}{rng.choice('纺织电子机械食品')}有限公司（演示）"),
            PlaceRow(prefix + "R001", f"{tname}新村安置小区"),
            PlaceRow(prefix + "R002", f"{tname}工业区职工宿舍"),
        ]
    return rows


DEMO_USERS = [
    # username, role, which place (county | town | village), full name, title
    ("admin", roles.COUNTY_ADMIN, "county", "县管理员（演示）", "信息科"),
    ("county", roles.COUNTY_CLERK, "county", "县局科员（演示）", "人口家庭科"),
    ("town", roles.TOWN_CLERK, "town", "乡镇专干（演示）", "卫生健康办"),
    ("village", roles.VILLAGE_CADRE, "village", "村专干（演示）", "村卫生健康专干"),
    ("doctor", roles.CLINIC_DOCTOR, "town", "服务站医生（演示）", ""),
    # A county hospital's doctor: searches the Rh registry and reads checks county-wide.
    ("hospital", roles.CLINIC_DOCTOR, "county", "县妇幼保健院医生（演示）", "妇产科"),
    ("operator", roles.CALL_OPERATOR, "county", "话务员（演示）", ""),
    ("inspector", roles.DISCIPLINE_INSPECTOR, "county", "纪检员（演示）", ""),
    ("observer", roles.OBSERVER, "county", "第三方监督员（演示）", ""),
]


def demo_exists() -> bool:
    return Place.objects.filter(code=PROVINCE_CODE).exists()


@transaction.atomic
def build(
    *,
    seed: int = 1,
    counties: int = 1,
    residents: int = 0,
    progress=None,
    villages: int = VILLAGES_PER_COUNTY,
    content: bool = True,
) -> DemoReport:
    """`villages` below 383 makes a smaller county of the same shape (fast tests); `content`
    adds the published items, notices and objections of the disclosure module."""
    if not 1 <= counties <= 99:
        raise ValueError("县的数量应在 1 到 99 之间。")
    report = DemoReport(counties=counties)
    rng = random.Random(seed)
    rows = [
        PlaceRow(PROVINCE_CODE, "演示省", code_year=YEAR),
        PlaceRow(CITY_CODE, "演示市", code_year=YEAR),
    ]
    place_services.place_bulk_create(actor=None, rows=rows, action="demo.build")
    for k in range(1, counties + 1):
        rows = county_rows(k, rng, villages)
        report.places += place_services.place_bulk_create(
            actor=None, rows=rows, action="demo.build"
        )
        if progress:
            progress(k, counties)
    county = Place.objects.get(code="990101000000")
    town = Place.objects.filter(parent=county).order_by("path").first()
    village = Place.objects.filter(parent=town, level="village").order_by("path").first()
    targets = {"county": county, "town": town, "village": village}
    _contacts(county, town)
    for username, role, where, full_name, title in DEMO_USERS:
        user = account_services.user_create(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            place=targets[where],
            full_name=full_name,
            title=title,
        )
        report.users.append((user.username, user.role_label, targets[where].name))
    if residents and apps.is_installed("sunshine.people"):
        from sunshine.people import demo as people_demo  # the people registry adds residents

        people_demo.build(seed=seed, residents=residents)
    if apps.is_installed("sunshine.messaging"):
        from sunshine.messaging import seeds as messaging_seeds  # the pregnancy SMS campaign

        messaging_seeds.pregnancy_campaign_seed(actor=None)
    if apps.is_installed("sunshine.precheck"):
        from sunshine.accounts.models import User
        from sunshine.precheck import demo as precheck_demo  # 好孕好运: institutions, slots, …

        precheck_demo.build(rng=rng, county=county, actor=User.objects.get(username="county"))
    if content and apps.is_installed("sunshine.publishing"):
        from sunshine.publishing import demo as publishing_demo

        report.items = publishing_demo.build(seed=seed)
    return report


def _contacts(county: Place, town: Place) -> None:
    for i, (dept, hours) in enumerate(
        [
            ("县卫生健康委员会办公室", "工作日 8:30–17:30"),
            ("人口监测与家庭发展科", "工作日 8:30–17:30"),
            ("政务服务中心卫健窗口", "工作日 9:00–17:00"),
        ]
    ):
        place_services.contact_create(
            actor=None,
            place=county,
            department=dept,
            phone=f"0000-8000{i + 1:04d}",
            hours=hours,
            position=i,
        )
    place_services.contact_create(
        actor=None,
        place=county,
        department="县纪委监委驻卫健委纪检组",
        phone="0000-80009999",
        kind="hotline",
        hours="工作日",
    )
    place_services.contact_create(
        actor=None,
        place=town,
        department="卫生健康办公室",
        phone="0000-81000001",
        hours="工作日 8:30–17:30",
    )
