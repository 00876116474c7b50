"""Synthetic residents for the demo county, generated deterministically and loaded through the
real import (so the demo exercises the same path a clerk's file takes)."""

import csv
import datetime as dt
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sunshine.core.validators import id_check_char, mobile_problem
from sunshine.people import importing, rules
from sunshine.people.models import Couple, Resident
from sunshine.places.models import Place

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅飞鹏辉建国志云海燕琳晶颖鑫宇浩然子涵欣怡梓轩雨桐一诺"


# The 3-digit segments of 13x, 15x, 17x and 18x that are assigned to mobile networks, as the
# one mobile check (the phonenumbers library's data) decides: 154, 174 and 179 are not.
MOBILE_SEGMENTS = tuple(
    seg
    for seg in (f"1{a}{b}" for a in "3578" for b in "0123456789")
    if all(mobile_problem(f"{seg}{tail}")[1] is None for tail in ("00000000", "99999999"))
)


def demo_mobile(rng: random.Random) -> str:
    """A made-up mobile in an assigned segment (random, so not anybody's in particular)."""
    return f"{rng.choice(MOBILE_SEGMENTS)}{rng.randint(0, 99999999):08d}"


def person_rows(
    seed: int, residents: int, groups: list[Place], today: dt.date
) -> Iterator[list[str]]:
    rng = random.Random(seed * 7919 + residents)
    made, household = 0, 0
    used: set[str] = set()
    while made < residents:
        group = rng.choice(groups)
        household += 1
        size = min(residents - made, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)))
        parents_year = rng.randint(1950, today.year - 22)
        for i in range(size):
            if i < 2:
                year = parents_year + rng.randint(-2, 2)
                sex = "M" if i == 0 else "F"
            else:
                year = min(today.year - 1, parents_year + rng.randint(20, 32))
                sex = rng.choice("MF")
            birth = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
            while True:
                seq = rng.randint(0, 499) * 2 + (1 if sex == "M" else 0)
                body = f"{group.code[:6]}{birth:%Y%m%d}{seq:03d}"
                idn = body + id_check_char(body)
                if idn not in used:
                    used.add(idn)
                    break
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))
            )
            mobile = demo_mobile(rng) if year < today.year - 16 else ""
            yield [
                name,
                "男" if sex == "M" else "女",
                birth.isoformat(),
                idn,
                mobile,
                group.code,
                f"{household:06d}",
                "",
                rng.choice(("农村", "农村", "农村", "城镇")),
                "在册",
            ]
            made += 1


def build(
    *, seed: int, residents: int, county_code: str = "990101000000", today: dt.date | None = None
) -> int:
    today = today or dt.date.today()
    county = Place.objects.get(code=county_code)
    groups = list(
        Place.objects.filter(path__startswith=county.path, level="group").order_by("path")
    )
    with tempfile.NamedTemporaryFile(
        "w", suffix=".csv", newline="", encoding="utf-8", delete=False
    ) as fh:
        w = csv.writer(fh)
        w.writerow([rules.HEADERS[f] for f in rules.COLUMNS])
        w.writerows(person_rows(seed, residents, groups, today))
        path = fh.name
    try:
        result = importing.import_residents(actor=None, path=path, today=today)
    finally:
        Path(path).unlink(missing_ok=True)
    _couples(county.path)
    return result.created


def _couples(prefix: str) -> None:
    """The first man and woman of each household are a couple; younger members are children."""
    members: dict[int, list[Resident]] = {}
    for r in Resident.objects.filter(
        place_path__startswith=prefix, household__isnull=False
    ).order_by("id"):
        members.setdefault(r.household_id, []).append(r)
    couples, links = [], []
    for people in members.values():
        if len(people) >= 2 and people[0].sex == "M" and people[1].sex == "F":
            husband, wife = people[0], people[1]
            couples.append(
                Couple(
                    husband=husband,
                    wife=wife,
                    place_id=wife.place_id,
                    place_path=wife.place_path,
                    marriage_date=dt.date(
                        max(husband.birth_date.year, wife.birth_date.year) + 23, 5, 1
                    ),
                )
            )
            links.append(people[2:])
    Couple.objects.bulk_create(couples, batch_size=2000)
    through = Couple.children.through
    rows = [
        through(couple_id=c.pk, resident_id=child.pk)
        for c, kids in zip(couples, links, strict=True)
        for child in kids
    ]
    through.objects.bulk_create(rows, batch_size=5000)
