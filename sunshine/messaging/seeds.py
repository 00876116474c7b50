"""The campaigns an installation starts with, as data a county may edit afterwards.

"孕期保健短信" (SPEC §11, the seed's "about 20 messages from pregnancy to birth"): 20 notices
counted from the last menstrual period (末次月经日期, LMP), following the national basic
public health service schedule (DOMAIN "Pregnancy and postpartum schedule"): folic acid to
the end of the third month, the first prenatal visit before 13 weeks, visits at 16–20,
21–24, 28–36 and 37–40 weeks, the postpartum home visit in the week after discharge and the
42-day check. The postpartum days are counted from the expected date (LMP + 280 days).
Notification texts: no marketing; with a three-character name and the signature 【阳光计生】
each fits one billed message (≤ 70 characters).
"""

import datetime as dt

from django.db import transaction

from sunshine.messaging import campaigns, rules, services
from sunshine.messaging.models import Campaign

PREGNANCY_CODE = "pregnancy"
EDD = 280  # expected delivery: LMP + 280 days

# (code, name, offset days from LMP, send time, {date} offset days or None, body)
PREGNANCY_EVENTS = [
    (
        "folic-start",
        "叶酸服用提醒",
        35,
        "09:30",
        None,
        "{name}您好，孕早期请每天服用叶酸0.4毫克至孕满3个月，可到村卫生室免费领取。",
    ),
    (
        "handbook",
        "建册和首次产检通知",
        42,
        "09:30",
        90,
        "{name}您好，请于{date}前到乡镇卫生院建立母子健康手册，做第一次产前检查。",
    ),
    (
        "early-care",
        "孕早期保健提示",
        56,
        "09:30",
        None,
        "{name}您好，孕早期请注意休息，不吸烟不饮酒，用药前请先问医生。",
    ),
    (
        "folic-keep",
        "叶酸坚持服用提醒",
        70,
        "09:30",
        None,
        "{name}您好，叶酸请坚持服用到孕满3个月，不要中断。",
    ),
    (
        "visit-1-due",
        "首次产检截止提醒",
        84,
        "09:30",
        90,
        "{name}您好，如还没做第一次产前检查，请于{date}前到乡镇卫生院检查建册。",
    ),
    (
        "visit-2",
        "孕16-20周产检通知",
        105,
        "09:30",
        139,
        "{name}您好，孕16至20周请做第二次产前检查，请于{date}前到医院检查。",
    ),
    (
        "screening",
        "产前筛查提示",
        119,
        "09:30",
        None,
        "{name}您好，孕中期请按医生建议做产前筛查，有疑问可咨询乡镇卫生院。",
    ),
    (
        "visit-3",
        "孕21-24周产检通知",
        147,
        "09:30",
        174,
        "{name}您好，孕21至24周请做第三次产前检查，请于{date}前到医院检查。",
    ),
    (
        "nutrition",
        "孕中期营养提示",
        161,
        "09:30",
        None,
        "{name}您好，孕期请均衡饮食、适量活动，注意体重增长，按时产检。",
    ),
    (
        "glucose",
        "糖尿病筛查提醒",
        168,
        "09:30",
        202,
        "{name}您好，孕24至28周请到医院做妊娠期糖尿病筛查，请于{date}前完成。",
    ),
    (
        "visit-4",
        "孕28-36周产检通知",
        196,
        "09:30",
        258,
        "{name}您好，孕28至36周请按医生约定做产前检查，请于{date}前完成。",
    ),
    (
        "movements",
        "数胎动提示",
        210,
        "09:30",
        None,
        "{name}您好，孕晚期请每天数胎动，胎动明显减少请及时就医。",
    ),
    (
        "birth-plan",
        "住院分娩准备提示",
        231,
        "09:30",
        None,
        "{name}您好，请提前选好分娩医院，备好母子健康手册、身份证和医保卡。",
    ),
    (
        "visit-5",
        "孕37-40周产检通知",
        252,
        "09:30",
        EDD,
        "{name}您好，孕37至40周请做第五次产前检查，请于{date}前到医院检查。",
    ),
    (
        "labour-signs",
        "临产征兆提示",
        266,
        "09:30",
        None,
        "{name}您好，如有规律宫缩、破水或阴道流血，请立即到医院，请勿在家分娩。",
    ),
    (
        "due-date",
        "预产期提示",
        EDD,
        "09:30",
        None,
        "{name}您好，今天是预产期，如未临产请按医生要求到医院复查。",
    ),
    (
        "home-visit",
        "产后访视通知",
        EDD + 7,
        "10:00",
        None,
        "{name}您好，出院后1周内乡镇卫生院医生将上门产后访视，请保持电话畅通。",
    ),
    (
        "birth-papers",
        "新生儿证件提示",
        EDD + 14,
        "10:00",
        None,
        "{name}您好，宝宝出生后请及时办理出生医学证明、预防接种证、户口和生育登记。",
    ),
    (
        "feeding",
        "母乳喂养和接种提示",
        EDD + 21,
        "10:00",
        None,
        "{name}您好，提倡纯母乳喂养6个月，宝宝请按时接种疫苗。",
    ),
    (
        "check-42",
        "产后42天检查通知",
        EDD + 35,
        "10:00",
        EDD + 42,
        "{name}您好，请于{date}前后带宝宝到乡镇卫生院做产后42天健康检查。",
    ),
]


@transaction.atomic
def pregnancy_campaign_seed(*, actor=None) -> Campaign:
    """The pregnancy campaign and its templates; a second call changes nothing."""
    found = Campaign.objects.filter(code=PREGNANCY_CODE).first()
    if found is not None:
        return found
    campaign = campaigns.campaign_create(
        actor=actor,
        code=PREGNANCY_CODE,
        name="孕期保健短信",
        anchor_label="末次月经日期",
        programme="precheck",
        description=(
            "从末次月经日期起约20条：叶酸、各孕周产前检查、分娩准备、产后访视和42天检查。"
            "产后短信按预产期（末次月经日期加280天）推算。"
        ),
    )
    for i, (code, name, offset, at, date_offset, body) in enumerate(PREGNANCY_EVENTS):
        template = services.template_save(
            actor=actor,
            code=f"{PREGNANCY_CODE}-{code}",
            name=name,
            body=body,
            category=rules.NON_ESSENTIAL,
            params=list(campaigns.PARAMS),
        )
        campaigns.campaign_event_add(
            actor=actor,
            campaign=campaign,
            offset_days=offset,
            send_time=dt.time.fromisoformat(at),
            template=template,
            date_offset_days=date_offset,
            position=i,
        )
    return campaign
