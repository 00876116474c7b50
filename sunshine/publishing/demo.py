"""Demo content for the boards: published items on every level, notices with and without
objections, a corrected item, a finalised notice, a spokesperson statement. Deterministic;
goes through the real services (drafted by the town or county clerk, published by a reviewer)."""

import datetime as dt
import random

from django.utils import timezone

from sunshine.accounts.models import User
from sunshine.people.models import Resident
from sunshine.places.models import Place
from sunshine.publishing import services
from sunshine.publishing.models import Category

COUNTY_ITEMS = [
    (
        "power-flow",
        "计划生育家庭奖励扶助资格确认流程图",
        "申请—村级初审公示—乡镇审核—县级审批公布—建档发放，各环节时限见图。",
        ["town", "village"],
    ),
    (
        "procedures",
        "生育登记办事指南（2026年版）",
        "生育登记不需审批，凭身份证、结婚证即可在线或到乡镇窗口办理，当场办结。",
        ["town", "village", "group", "unit", "residence"],
    ),
    (
        "leadership",
        "县卫生健康委员会领导班子成员分工及联系电话",
        "主任主持全面工作；副主任分管人口监测与家庭发展……",
        ["town"],
    ),
    (
        "organisation",
        "县卫生健康委员会内设机构及职责",
        "办公室、人口监测与家庭发展科、基层卫生科等8个内设机构。",
        ["town"],
    ),
    (
        "large-expenditure",
        "2026年第三季度大额经费支出情况",
        "本季度5万元以上支出3笔，合计42.6万元，明细见表。",
        ["town"],
    ),
    (
        "vehicle-use",
        "2026年10月公务用车使用情况",
        "公务用车2辆，本月出车46次，均用于下乡督查和服务。",
        ["town"],
    ),
    (
        "cadre-appointment",
        "关于拟任职干部的公示",
        "经研究，拟任命2名同志为科室负责人，现予公示。",
        ["town"],
    ),
    (
        "petitions",
        "2026年第三季度信访事项办理情况",
        "受理信访事项14件，已办结13件，按期办结率100%。",
        ["town", "village"],
    ),
]
TABLES = {
    "large-expenditure": {
        "headers": ["日期", "事项", "金额（万元）", "经办科室"],
        "rows": [
            ["2026-07-12", "孕前优生检查试剂采购", "18.2", "妇幼健康科"],
            ["2026-08-03", "奖励扶助资金拨付手续费", "6.1", "人口家庭科"],
            ["2026-09-21", "村级服务室设备更新", "18.3", "基层卫生科"],
        ],
    },
    "vehicle-use": {
        "headers": ["车牌", "出车次数", "主要用途"],
        "rows": [["苏C·演001", "25", "下乡督查"], ["苏C·演002", "21", "送证上门"]],
    },
}


def build(*, seed: int = 1, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    rng = random.Random(seed)
    county_clerk, admin = User.objects.get(username="county"), User.objects.get(username="admin")
    town_clerk = User.objects.get(username="town")
    village_cadre = User.objects.get(username="village")
    county = county_clerk.place
    made = 0

    def publish(item, reviewer=county_clerk):
        services.item_submit(actor=item.created_by, item=item)
        return services.item_publish(
            actor=reviewer, item=item, now=now - dt.timedelta(days=rng.randint(1, 20))
        )

    cats = {c.code: c for c in Category.objects.all()}
    for code, title, summary, levels in COUNTY_ITEMS:
        item = services.item_create(
            actor=county_clerk,
            category=cats[code],
            place=county,
            title=title,
            summary=summary,
            body=summary + "\n特此公开，欢迎监督。",
            table=TABLES.get(code),
            levels=levels,
        )
        publish(item, reviewer=admin)
        made += 1
    statement = services.item_create(
        actor=county_clerk,
        category=cats["spokesperson"],
        place=county,
        kind="statement",
        title="关于农村部分计划生育家庭奖励扶助标准的说明",
        spokesperson="县卫生健康委员会网络发言人",
        summary="奖励扶助标准按国家和省有关规定执行，资金直接发放到户。",
        levels=["town", "village"],
    )
    publish(statement, reviewer=admin)
    corrected = services.item_create(
        actor=county_clerk,
        category=cats["procedures"],
        place=county,
        title="特别扶助申请办事流程",
        summary="申请人向户籍所在地村（居）委会提出申请。",
        levels=["town", "village"],
    )
    corrected = publish(corrected, reviewer=admin)
    services.item_correct(
        actor=admin,
        item=corrected,
        title="特别扶助申请办事流程",
        summary="申请人可向户籍所在地或居住地村（居）委会提出申请。",
        change_note="补充：可在居住地提出申请。",
        now=now - dt.timedelta(hours=3),
    )
    made += 2

    # Town notices of eligibility lists, each targeting its villages and groups.
    towns = list(Place.objects.filter(parent=county, level="town").order_by("path")[:4])
    for i, town in enumerate(towns):
        people = list(Resident.objects.filter(place_path__startswith=town.path).order_by("id")[:6])
        item = services.item_create(
            actor=town_clerk if town == town_clerk.place else county_clerk,
            category=cats["reward-assistance"],
            place=town,
            title=f"{town.name}2027年度农村部分计划生育家庭奖励扶助拟确认对象公示",
            summary=f"经村级初审、乡镇审核，拟确认{len(people)}人为2027年度奖励扶助对象，现予公示。",
            body="公示期7天。对名单有异议的，可在公示期内在本页提出，或拨打监督投诉电话。",
            levels=["village", "group"],
        )
        for person in people:
            services.entry_add(
                actor=item.created_by,
                item=item,
                name="",
                resident=person,
                matter="奖励扶助资格确认",
            )
        reviewer = county_clerk if item.created_by != county_clerk else admin
        services.item_submit(actor=item.created_by, item=item)
        published_at = now - dt.timedelta(days=2 if i < 3 else 12)
        item = services.item_publish(actor=reviewer, item=item, now=published_at)
        made += 1
        if i == 0:
            objection = services.objection_file(
                item=item,
                text="名单中第3人已迁往外地多年，是否仍符合条件请核实。",
                now=published_at + dt.timedelta(days=1),
                ip="127.0.0.1",
            )
            services.objection_answer(
                actor=town_clerk,
                objection=objection,
                answer="经核实，该户户籍仍在本村，符合条件。感谢监督。",
                now=published_at + dt.timedelta(days=1, hours=5),
            )
            services.objection_file(
                item=item,
                text="请公布资格审核的具体依据和时间。",
                now=published_at + dt.timedelta(days=1, hours=8),
                ip="127.0.0.2",
            )
        if i == 3:
            services.notice_finalise(
                actor=item.created_by,
                item=item,
                outcome="公示期内未收到异议，名单已确认并报县级备案。",
                now=now,
            )
    # A village's own disclosure.
    village = village_cadre.place
    item = services.item_create(
        actor=village_cadre,
        category=cats["petitions"],
        place=village,
        title=f"{village.name}2026年10月村务公开：群众来访办理情况",
        summary="本月接待群众来访5人次，均已答复。",
        levels=["group", "residence"],
    )
    services.item_submit(actor=village_cadre, item=item)
    services.item_publish(actor=county_clerk, item=item, now=now - dt.timedelta(days=1))
    made += 1
    return made
