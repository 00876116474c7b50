"""Staff roles (SPEC §0.2) and what each may do. Capabilities are checked by name."""

COUNTY_ADMIN = "county_admin"
COUNTY_CLERK = "county_clerk"
TOWN_CLERK = "town_clerk"
VILLAGE_CADRE = "village_cadre"
CLINIC_DOCTOR = "clinic_doctor"
CALL_OPERATOR = "call_operator"
DISCIPLINE_INSPECTOR = "discipline_inspector"
OBSERVER = "observer"

ROLE_CHOICES = [
    (COUNTY_ADMIN, "县级管理员"),
    (COUNTY_CLERK, "县局工作人员"),
    (TOWN_CLERK, "乡镇工作人员"),
    (VILLAGE_CADRE, "村（居）干部"),
    (CLINIC_DOCTOR, "服务机构医生"),
    (CALL_OPERATOR, "话务员"),
    (DISCIPLINE_INSPECTOR, "纪检监察员"),
    (OBSERVER, "第三方监督员"),
]
ROLE_LABELS = dict(ROLE_CHOICES)

# Capability names are "<area>.<verb>"; a role has a fixed set. Data-driven later if a
# county needs its own roles.
PEOPLE_WORK = ("people.view", "people.change", "people.identifiers", "people.import")
# Draft public items and answer objections in one's own place; review publishes (county level).
PUBLISHING_WORK = ("publishing.view", "publishing.draft", "publishing.answer")
# The SMS desk: read the outbox and ledger, send, and work the call tasks and replies.
SMS_WORK = ("sms.view", "sms.send", "calls.work")
# 好孕好运 (SPEC §11): register couples and book checks; the health data itself (results, risk,
# counselling, pregnancies) is for clinic doctors only ("precheck.health"); follow-up calls
# for operators and doctors; statistics are aggregates. The Rh-negative registry
# ("rh.registry") is for the county clerk who runs the mutual-aid society and for doctors.
PRECHECK_DESK = ("precheck.view", "precheck.register", "precheck.stats")

# The county admin runs the system: residents are visible to them only masked (PIPL: minimum
# necessary); the clerks and cadres who register residents see full identifiers.
CAPABILITIES: dict[str, frozenset[str]] = {
    COUNTY_ADMIN: frozenset(
        {
            *(
                "places.view",
                "places.change",
                "staff.view",
                "staff.change",
                "audit.view",
                "admin.use",
            ),
            *("contacts.change", "people.view", "publishing.view", "publishing.review"),
            *("sms.view", "sms.templates"),
            "precheck.stats",
        }
    ),
    COUNTY_CLERK: frozenset(
        {
            *("places.view", "places.change", "staff.view", "contacts.change"),
            *PEOPLE_WORK,
            *PUBLISHING_WORK,
            "publishing.review",
            *SMS_WORK,
            "sms.templates",
            *PRECHECK_DESK,
            "precheck.manage",
            "rh.registry",
        }
    ),
    TOWN_CLERK: frozenset(
        {
            "places.view",
            "places.change",
            "staff.view",
            "contacts.change",
            *PEOPLE_WORK,
            *PUBLISHING_WORK,
            *SMS_WORK,
            *PRECHECK_DESK,
            "precheck.manage",
        }
    ),
    VILLAGE_CADRE: frozenset(
        {"places.view", *PEOPLE_WORK, *PUBLISHING_WORK, "precheck.view", "precheck.register"}
    ),
    CLINIC_DOCTOR: frozenset(
        {
            "places.view",
            *PRECHECK_DESK,
            *("precheck.manage", "precheck.health", "precheck.followup", "rh.registry"),
        }
    ),
    CALL_OPERATOR: frozenset(
        {"places.view", "sms.view", "calls.work", "precheck.view", "precheck.followup"}
    ),
    DISCIPLINE_INSPECTOR: frozenset({"places.view", "audit.view"}),
    OBSERVER: frozenset({"places.view", "publishing.view"}),
}


def has_capability(role: str, capability: str) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())


# Two-factor log-in (django-otp) is required of every role holding one of these capabilities:
# full identifiers, resident records, health data, the Rh registry, mobiles on the SMS desk
# and call lists, the audit log, and running the system (staff, admin). Today that is every
# role but the third-party observer, who reads places and the publication desk only.
# Superusers always need it.
TWO_FACTOR_CAPABILITIES = frozenset(
    {
        "people.view",
        "people.identifiers",
        "precheck.view",
        "precheck.health",
        "precheck.followup",
        "rh.registry",
        "sms.view",
        "calls.work",
        "audit.view",
        "staff.change",
        "admin.use",
    }
)


def needs_two_factor(role: str, *, is_superuser: bool = False) -> bool:
    return is_superuser or bool(CAPABILITIES.get(role, frozenset()) & TWO_FACTOR_CAPABILITIES)
