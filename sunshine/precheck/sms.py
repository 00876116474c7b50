"""The SMS texts of 好孕好运, as templates of the SMS engine (a county edits them at
/staff/sms/templates/). Created on first use; an edited template is kept.

检查通知 (notice): time, place and what to bring; reply 1 to confirm, 2 for another time.
结果告知 (result): results are ready and whether to come for counselling — never an item, a
value or a diagnosis (PIPL: health data is sensitive; an SMS is read on a shared phone)."""

from sunshine.messaging import rules as sms_rules
from sunshine.messaging import services as sms_services
from sunshine.messaging.models import Template

PROGRAMME = "precheck"
NOTICE, RESULT = "precheck-notice", "precheck-result"

TEMPLATES = {
    NOTICE: (
        "孕前检查通知",
        "{name}您好，您夫妇已预约{time}到{place}做免费孕前优生检查，{bring}"
        "回复1确认，回复2改约时间。",
        ["name", "time", "place", "bring"],
    ),
    RESULT: (
        "孕前检查结果告知",
        "{name}您好，您夫妇的孕前优生检查结果已出，{advice}咨询电话{phone}。",
        ["name", "advice", "phone"],
    ),
}

# The only sentences a result SMS may carry for its {advice}: fixed texts chosen by level.
RESULT_ADVICE = {
    "normal": "请按时服用叶酸，计划怀孕后请告知村医。",
    "counsel": "请夫妇携带身份证到检查机构接受咨询指导。",
    "high": "请夫妇尽快携带身份证到检查机构接受咨询指导。",
}


def template(code: str) -> Template:
    """The template, created from TEMPLATES the first time it is needed."""
    found = Template.objects.filter(code=code).first()
    if found is not None:
        return found
    name, body, params = TEMPLATES[code]
    return sms_services.template_save(
        actor=None,
        code=code,
        name=name,
        body=body,
        category=sms_rules.ESSENTIAL,
        params=params,
    )
