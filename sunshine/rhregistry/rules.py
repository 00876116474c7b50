"""Pure rules of the registry: red-cell compatibility, the consent text, nearness, the SMS text.

Compatibility (DOMAIN 'Rh-negative blood'), red cells, recipient ← donors:
O ← O; A ← A, O; B ← B, O; AB ← A, B, O, AB; an RhD-negative recipient ← RhD-negative donors
only; an RhD-positive recipient may receive either. Weak D / partial D people are kept in the
registry (as recipients they need RhD-negative blood), but as donors blood banks label them
RhD-positive, so they are never suggested for an RhD-negative patient. The platform only
suggests: the blood bank cross-matches.
"""

A, B, O, AB = "A", "B", "O", "AB"  # noqa: E741 (O is the blood group)
ABO_CHOICES = [(A, "A型"), (B, "B型"), (O, "O型"), (AB, "AB型")]
ABO_VALUES = (A, B, O, AB)
NEG, POS = "neg", "pos"
RHD_CHOICES = [(NEG, "RhD阴性"), (POS, "RhD阳性")]
WEAK = "weak"
# What a registered volunteer may be: confirmed RhD-negative, or weak D / partial D.
DONOR_RHD_CHOICES = [(NEG, "RhD阴性"), (WEAK, "弱D/部分D（献血时按阳性）")]

DISCLAIMER = "平台只提示，交叉配血以血站为准。"

_RED_CELL_DONORS = {O: {O}, A: {A, O}, B: {B, O}, AB: {A, B, O, AB}}


def compatible_donor_abo(recipient_abo: str) -> set[str]:
    """The ABO groups whose red cells a recipient may receive."""
    return set(_RED_CELL_DONORS[recipient_abo])


def donor_rhd_as_donor(rhd: str) -> str:
    """A donor's RhD as the blood bank labels the donation: weak D / partial D count as positive."""
    return NEG if rhd == NEG else POS


def compatible(donor_abo: str, donor_rhd: str, recipient_abo: str, recipient_rhd: str) -> bool:
    if donor_abo not in compatible_donor_abo(recipient_abo):
        return False
    return recipient_rhd == POS or donor_rhd_as_donor(donor_rhd) == NEG


def donor_rhd_for(recipient_rhd: str) -> set[str]:
    """The registry's donor RhD values a recipient may receive."""
    return {v for v, _ in DONOR_RHD_CHOICES if recipient_rhd == POS or v == NEG}


def blood_label(abo: str, rhd: str) -> str:
    sign = {NEG: "RhD阴性", POS: "RhD阳性", WEAK: "弱D/部分D"}.get(rhd, rhd)
    return f"{abo}型 {sign}"


# Consent (PIPL: separate consent for sensitive personal information, with its scope).
EMERGENCY, ACTIVITIES = "emergency_contact", "activities"
CONSENT_SCOPE_CHOICES = [
    (EMERGENCY, "紧急用血时，经工作人员确认后接受短信联系"),
    (ACTIVITIES, "接收并参加熊猫血友会互助活动的通知"),
]
CONSENT_SCOPE_LABELS = dict(CONSENT_SCOPE_CHOICES)
CONSENT_SCOPE_SHORT = {EMERGENCY: "紧急联系", ACTIVITIES: "互助活动"}
CONSENT_VERSION = "2026-1"
CONSENT_TEXT = (
    "我自愿加入熊猫血友会（Rh阴性血型互助）。我同意本平台收集和保存我的姓名、身份证号码、"
    "手机号码、所在地和血型（属于敏感个人信息），只用于我在下方勾选的用途：紧急用血时由县卫健部门"
    "或医疗机构的授权工作人员查找并经确认后短信联系我，和/或通知我参加互助活动。我的信息不公开，"
    "只有授权工作人员能查看，每次查看和查找都会记录。是否献血完全由我自愿决定。"
    "我可以随时在本网站“撤回登记”页面或请工作人员撤回登记，撤回后我的信息将被删除，不再被查找。"
)


def nearness(donor_path: str, near_paths: list[str]) -> int:
    """0 for the patient's own place, 1 for the place above it, …; len(near_paths) when none
    shares a prefix. `near_paths` runs from the patient's place upwards."""
    for rank, path in enumerate(near_paths):
        if donor_path.startswith(path):
            return rank
    return len(near_paths)


def contact_sms(*, hospital: str, patient_abo: str, patient_rhd: str, phone: str) -> str:
    """The contact SMS: no patient identity, no donor name (an SMS is read on a shared phone)."""
    group = f"{'Rh阴性' if patient_rhd == NEG else ''}{patient_abo}型"
    return (
        f"熊猫血友会志愿者您好：{hospital}有一位{group}患者急需用血，"
        f"如您方便献血，请致电{phone}。是否献血完全自愿，不便可不回复。"
    )


JOIN_SMS = (
    "您已加入熊猫血友会（Rh阴性互助），信息只用于您同意的用途。随时可在网站“撤回登记”页面撤回。"
)
ALREADY_SMS = "您已是熊猫血友会志愿者，刚才的重复登记未保存。如需修改信息请先撤回后重新登记。"
WITHDRAW_SMS = "您的熊猫血友会登记已撤回，您的信息已删除，不会再被查找或联系。感谢您的爱心。"
