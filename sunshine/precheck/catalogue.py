"""The national programme's 19 items (DOMAIN "Free pre-pregnancy eugenic health check"): five
basic services and fourteen medical examinations. Loaded into CheckItem by a data migration;
a county edits them at /staff/precheck/catalogue/ afterwards (the official split is unconfirmed, so it is
data). Reference ranges are common adult ranges, to be confirmed by the county's laboratory.

Each row: (number, code, name, kind, applies_to, result_type, unit, low, high, abnormal_risk,
description)."""

from decimal import Decimal

from django.db import transaction

from sunshine.core import audit
from sunshine.core.errors import ServiceError
from sunshine.precheck import content

S, E = "service", "exam"
F, M, B = "F", "M", "B"
FLAG, VALUE, TEXT = "flag", "value", "text"
NORMAL, COUNSEL, HIGH = "normal", "counsel", "high"

ITEMS = [
    (1, "education", "优生健康教育", S, B, TEXT, "", None, None, NORMAL, "孕前保健知识、叶酸服用"),
    (
        2,
        "history",
        "病史询问",
        S,
        B,
        TEXT,
        "",
        None,
        None,
        COUNSEL,
        "疾病史、孕育史、家族史、用药情况",
    ),
    (3, "physical", "体格检查", S, B, FLAG, "", None, None, COUNSEL, "常规检查及生殖系统检查"),
    (
        4,
        "vaginal",
        "阴道分泌物检查",
        E,
        F,
        FLAG,
        "",
        None,
        None,
        COUNSEL,
        "白带常规、淋球菌、沙眼衣原体",
    ),
    (5, "blood", "血液常规检验（血红蛋白）", E, F, VALUE, "g/L", "110", "150", COUNSEL, ""),
    (6, "urine", "尿液常规检验", E, F, FLAG, "", None, None, COUNSEL, ""),
    (
        7,
        "blood-type",
        "血型（ABO、Rh）",
        E,
        B,
        TEXT,
        "",
        None,
        None,
        COUNSEL,
        "Rh阴性者登记为异常以便孕期管理",
    ),
    (8, "glucose", "血清葡萄糖", E, F, VALUE, "mmol/L", "3.9", "6.1", COUNSEL, "空腹"),
    (9, "liver", "肝功能（谷丙转氨酶）", E, B, VALUE, "U/L", "0", "40", COUNSEL, ""),
    (10, "hbv", "乙型肝炎血清学五项", E, B, FLAG, "", None, None, COUNSEL, ""),
    (11, "kidney", "肾功能（肌酐）", E, F, VALUE, "μmol/L", "44", "133", COUNSEL, ""),
    (12, "thyroid", "甲状腺功能（促甲状腺激素）", E, F, VALUE, "mIU/L", "0.27", "4.2", COUNSEL, ""),
    (13, "syphilis", "梅毒螺旋体筛查", E, B, FLAG, "", None, None, HIGH, ""),
    (
        14,
        "rubella",
        "风疹病毒IgG抗体",
        E,
        F,
        FLAG,
        "",
        None,
        None,
        COUNSEL,
        "阴性者建议接种疫苗后再怀孕",
    ),
    (15, "cmv", "巨细胞病毒IgM/IgG抗体", E, F, FLAG, "", None, None, HIGH, ""),
    (16, "toxoplasma", "弓形体IgM/IgG抗体", E, F, FLAG, "", None, None, HIGH, ""),
    (17, "ultrasound", "妇科超声检查", E, F, FLAG, "", None, None, COUNSEL, ""),
    (18, "counselling", "风险评估和咨询指导", S, B, TEXT, "", None, None, NORMAL, ""),
    (19, "followup", "早孕和妊娠结局随访", S, B, TEXT, "", None, None, NORMAL, ""),
]


def load(CheckItem) -> int:
    """Insert the items a database does not have yet (by code); edits are kept."""
    have = set(CheckItem.objects.values_list("code", flat=True))
    new = [
        CheckItem(
            number=n,
            code=code,
            name=name,
            kind=kind,
            applies_to=applies,
            result_type=rtype,
            unit=unit,
            ref_low=None if low is None else Decimal(low),
            ref_high=None if high is None else Decimal(high),
            abnormal_risk=risk,
            description=desc,
        )
        for n, code, name, kind, applies, rtype, unit, low, high, risk, desc in ITEMS
        if code not in have
    ]
    CheckItem.objects.bulk_create(new)
    return len(new)


# ---- editing (the county's own list) --------------------------------------------------------


@transaction.atomic
def item_update(
    *,
    actor,
    item,
    name: str,
    unit: str = "",
    ref_low=None,
    ref_high=None,
    abnormal_risk: str,
    description: str = "",
    is_active: bool = True,
):
    """A county corrects an item: its name, unit and reference range (its laboratory's), what an
    abnormal result means for the risk, or stops using it. Number, code, kind, who it applies to
    and the result type stay: results already entered depend on them. County writers only."""
    if not content.can_set_targets(actor):  # the same rule: a writer at county level or above
        raise ServiceError("检查项目由县级统一维护。")
    name, unit, description = ((v or "").strip() for v in (name, unit, description))
    if not name:
        raise ServiceError("请填写项目名称。", field="name")
    if abnormal_risk not in {c for c, _ in item.RISK_CHOICES}:
        raise ServiceError("请选择异常时的风险等级。", field="abnormal_risk")
    if item.result_type == item.VALUE:
        if ref_low is None or ref_high is None:
            raise ServiceError("数值项目请填写参考下限和上限。", field="ref_low")
        if ref_low >= ref_high:
            raise ServiceError("参考下限应小于上限。", field="ref_high")
        if not unit:
            raise ServiceError("数值项目请填写单位。", field="unit")
    fields = ["name", "unit", "ref_low", "ref_high", "abnormal_risk", "description", "is_active"]
    before = audit.snapshot(item, fields)
    item.name, item.unit, item.description = name[:50], unit[:20], description[:200]
    item.ref_low, item.ref_high = ref_low, ref_high
    item.abnormal_risk, item.is_active = abnormal_risk, bool(is_active)
    item.save(update_fields=fields)
    audit.record(
        actor=actor,
        action="precheck_checkitem.update",
        obj=item,
        changes=audit.diff(item, fields, before),
    )
    return item
