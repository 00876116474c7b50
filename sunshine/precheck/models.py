"""好孕好运: the free pre-pregnancy eugenic health check (SPEC §11).

A couple registers (a Registration, both partners on it), books a slot at a service
institution (Appointment), is checked item by item from the catalogue (CheckItem → Result),
assessed (Assessment: normal / counselling / high risk) and counselled; follow-ups are call
tasks for operators (FollowUp); a recorded pregnancy (Pregnancy) joins the SMS campaign.
Health data (results, assessments, counselling, pregnancies) is read only by clinic doctors,
through selectors that write the audit row. Every row carries `place_path`, the couple's place,
for the one scoping mechanism."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from sunshine.places.models import Place

WOMAN, MAN = "F", "M"
SUBJECT_CHOICES = [(WOMAN, "女方"), (MAN, "男方")]


class CheckItem(models.Model):
    """One of the national programme's 19 items, as data (DOMAIN: the exact split is
    unconfirmed, so a county edits it on a staff page rather than in code)."""

    EXAM, SERVICE = "exam", "service"
    KIND_CHOICES = [(EXAM, "医学检查"), (SERVICE, "基本服务")]
    BOTH = "B"
    APPLIES_CHOICES = [(WOMAN, "女方"), (MAN, "男方"), (BOTH, "夫妇双方")]
    FLAG, VALUE, TEXT = "flag", "value", "text"
    RESULT_CHOICES = [(FLAG, "正常/异常"), (VALUE, "数值（单位、参考范围）"), (TEXT, "文字")]
    NORMAL, COUNSEL, HIGH = "normal", "counsel", "high"
    RISK_CHOICES = [(NORMAL, "一般人群"), (COUNSEL, "有风险因素，需咨询指导"), (HIGH, "高风险")]

    number = models.PositiveSmallIntegerField("序号", unique=True)
    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("项目名称", max_length=50)
    kind = models.CharField("类别", max_length=8, choices=KIND_CHOICES)
    applies_to = models.CharField("适用对象", max_length=1, choices=APPLIES_CHOICES)
    result_type = models.CharField("结果类型", max_length=8, choices=RESULT_CHOICES)
    unit = models.CharField("单位", max_length=20, blank=True)
    ref_low = models.DecimalField(
        "参考下限", max_digits=10, decimal_places=3, null=True, blank=True
    )
    ref_high = models.DecimalField(
        "参考上限", max_digits=10, decimal_places=3, null=True, blank=True
    )
    # What an abnormal result of this item means for the couple's risk level (data, editable).
    abnormal_risk = models.CharField(
        "异常时的风险等级", max_length=8, choices=RISK_CHOICES, default=COUNSEL
    )
    description = models.CharField("说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "检查项目"
        verbose_name_plural = "检查项目"
        ordering = ["number"]

    def __str__(self):
        return f"{self.number}. {self.name}"

    def applies(self, subject: str) -> bool:
        return self.applies_to in (self.BOTH, subject)


class Institution(models.Model):
    """A service institution (服务机构: a county maternal and child health centre, a town
    health centre) where checks are done."""

    name = models.CharField("机构名称", max_length=100)
    place = models.ForeignKey(
        Place, verbose_name="所在地", on_delete=models.PROTECT, related_name="+"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    address = models.CharField("地址", max_length=200)
    phone = models.CharField("咨询电话", max_length=30, blank=True)
    hours = models.CharField("服务时间", max_length=200, blank=True)
    instructions = models.TextField(
        "注意事项与携带物品", blank=True, help_text="如：空腹，携带夫妇双方身份证。"
    )
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "服务机构"
        verbose_name_plural = "服务机构"
        ordering = ["place_path", "name"]

    def __str__(self):
        return self.name


class Slot(models.Model):
    """A bookable time at an institution; `booked` is kept by the booking service under a
    row lock, so a full slot is never overbooked."""

    institution = models.ForeignKey(
        Institution, verbose_name="服务机构", on_delete=models.PROTECT, related_name="slots"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    starts_at = models.DateTimeField("开始时间")
    ends_at = models.DateTimeField("结束时间")
    capacity = models.PositiveIntegerField("可约对数", default=10)
    booked = models.PositiveIntegerField("已约对数", default=0)
    is_open = models.BooleanField("开放预约", default=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "预约时段"
        verbose_name_plural = "预约时段"
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["institution", "starts_at"], name="slot_inst_start")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")), name="slot_not_overbooked"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after"
            ),
        ]

    def __str__(self):
        return f"{self.institution.name} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free(self) -> int:
        return max(self.capacity - self.booked, 0)


class Registration(models.Model):
    """A couple planning a pregnancy (孕前优生登记): both partners, their consents, and where the
    case stands. Partners are linked to the people registry when their ID number is in it;
    migrants who are not still register."""

    ONLINE, CADRE, CLINIC = "online", "cadre", "clinic"
    CHANNEL_CHOICES = [
        (ONLINE, "网上自行登记"),
        (CADRE, "村（居）干部代登记"),
        (CLINIC, "服务机构登记"),
    ]
    REGISTERED, BOOKED, CHECKED, ASSESSED, PREGNANT, CLOSED = (
        "registered",
        "booked",
        "checked",
        "assessed",
        "pregnant",
        "closed",
    )
    STATUS_CHOICES = [
        (REGISTERED, "已登记"),
        (BOOKED, "已预约"),
        (CHECKED, "已检查"),
        (ASSESSED, "已评估"),
        (PREGNANT, "已怀孕"),
        (CLOSED, "已结束"),
    ]

    number = models.CharField("登记编号", max_length=20, unique=True)
    woman_name = models.CharField("女方姓名", max_length=50)
    woman_id_number = models.CharField("女方身份证号码", max_length=18)
    woman_mobile = models.CharField("女方手机号码", max_length=11, blank=True)
    man_name = models.CharField("男方姓名", max_length=50)
    man_id_number = models.CharField("男方身份证号码", max_length=18)
    man_mobile = models.CharField("男方手机号码", max_length=11, blank=True)
    woman = models.ForeignKey(
        "people.Resident",
        verbose_name="女方（居民）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    man = models.ForeignKey(
        "people.Resident",
        verbose_name="男方（居民）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    place = models.ForeignKey(
        Place, verbose_name="现居住地", on_delete=models.PROTECT, related_name="+"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    channel = models.CharField("登记渠道", max_length=8, choices=CHANNEL_CHOICES)
    consent_sms = models.BooleanField("同意接收短信", default=False)
    consent_data = models.BooleanField("同意按用途使用个人健康信息", default=False)
    consent_at = models.DateTimeField("同意时间", null=True, blank=True)
    consent_text = models.CharField("同意书版本", max_length=40, blank=True)
    planned_month = models.DateField("计划怀孕时间（月）", null=True, blank=True)
    status = models.CharField("状态", max_length=12, choices=STATUS_CHOICES, default=REGISTERED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Set by the service from its `now` (an imported or back-dated registration keeps its date).
    created_at = models.DateTimeField("登记时间", default=timezone.now, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    close_reason = models.CharField("结束原因", max_length=200, blank=True)

    scope_path = "place_path"
    SENSITIVE_FIELDS = ("woman_id_number", "woman_mobile", "man_id_number", "man_mobile")

    class Meta:
        verbose_name = "孕前优生登记"
        verbose_name_plural = "孕前优生登记"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["woman_id_number"], name="reg_woman_id"),
            models.Index(fields=["woman_mobile"], name="reg_woman_mobile"),
            models.Index(fields=["man_mobile"], name="reg_man_mobile"),
            models.Index(fields=["status", "created_at"], name="reg_status_created"),
        ]

    def __str__(self):
        return f"{self.number} {self.woman_name}、{self.man_name}"

    def mobiles(self) -> list[str]:
        return [m for m in (self.woman_mobile, self.man_mobile) if m]


class Appointment(models.Model):
    BOOKED, CONFIRMED, CHANGE_REQUESTED, CANCELLED, ATTENDED, MISSED = (
        "booked",
        "confirmed",
        "change",
        "cancelled",
        "attended",
        "missed",
    )
    STATUS_CHOICES = [
        (BOOKED, "已预约，待确认"),
        (CONFIRMED, "已确认"),
        (CHANGE_REQUESTED, "要求改期"),
        (CANCELLED, "已取消"),
        (ATTENDED, "已到检"),
        (MISSED, "未到检"),
    ]
    ACTIVE = (BOOKED, CONFIRMED, CHANGE_REQUESTED)

    registration = models.ForeignKey(
        Registration, verbose_name="登记", on_delete=models.PROTECT, related_name="appointments"
    )
    slot = models.ForeignKey(
        Slot, verbose_name="时段", on_delete=models.PROTECT, related_name="appointments"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    status = models.CharField("状态", max_length=10, choices=STATUS_CHOICES, default=BOOKED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="预约人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("预约时间", auto_now_add=True)
    answered_at = models.DateTimeField("回复时间", null=True, blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "检查预约"
        verbose_name_plural = "检查预约"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.registration.number} @ {self.slot}"


class Result(models.Model):
    """One item's result for one partner. Health data: doctors only."""

    registration = models.ForeignKey(
        Registration, verbose_name="登记", on_delete=models.PROTECT, related_name="results"
    )
    item = models.ForeignKey(
        CheckItem, verbose_name="检查项目", on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField("对象", max_length=1, choices=SUBJECT_CHOICES)
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    value = models.CharField("结果", max_length=200, blank=True)
    is_abnormal = models.BooleanField("异常", default=False)
    note = models.CharField("医生意见", max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入医生",
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField("录入时间", auto_now=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "检查结果"
        verbose_name_plural = "检查结果"
        ordering = ["item__number", "subject"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "item", "subject"], name="result_once_per_item"
            )
        ]

    def __str__(self):
        return f"{self.item.name}（{self.get_subject_display()}）"


class Assessment(models.Model):
    """The risk assessment (风险评估) of a couple after their checks, with its reasons."""

    registration = models.OneToOneField(
        Registration, verbose_name="登记", on_delete=models.PROTECT, related_name="assessment"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    level = models.CharField("风险等级", max_length=8, choices=CheckItem.RISK_CHOICES)
    reasons = models.JSONField("理由", default=list)
    advice = models.TextField("医生建议", blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评估医生",
        on_delete=models.PROTECT,
        related_name="+",
    )
    assessed_at = models.DateTimeField("评估时间")
    notified_at = models.DateTimeField("结果告知时间", null=True, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "风险评估"
        verbose_name_plural = "风险评估"

    def __str__(self):
        return f"{self.registration.number} {self.get_level_display()}"


class Counselling(models.Model):
    registration = models.ForeignKey(
        Registration, verbose_name="登记", on_delete=models.PROTECT, related_name="counsellings"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    counselled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="咨询医生",
        on_delete=models.PROTECT,
        related_name="+",
    )
    counselled_at = models.DateTimeField("咨询时间")
    advice = models.TextField("咨询指导内容")

    scope_path = "place_path"

    class Meta:
        verbose_name = "咨询指导记录"
        verbose_name_plural = "咨询指导记录"
        ordering = ["-counselled_at", "-id"]

    def __str__(self):
        return f"{self.registration.number} {self.counselled_at:%Y-%m-%d}"


class FollowUp(models.Model):
    """Early-pregnancy (早孕) or pregnancy-outcome (妊娠结局) follow-up: a call task for an
    operator with a script, and an outcome form."""

    EARLY, OUTCOME = "early", "outcome"
    KIND_CHOICES = [(EARLY, "早孕随访"), (OUTCOME, "妊娠结局随访")]
    OPEN, DONE, CANCELLED = "open", "done", "cancelled"
    STATUS_CHOICES = [(OPEN, "待随访"), (DONE, "已随访"), (CANCELLED, "已取消")]
    LIVE_BIRTH, STILLBIRTH, MISCARRIAGE, INDUCED, ECTOPIC, OTHER = (
        "live",
        "stillbirth",
        "miscarriage",
        "induced",
        "ectopic",
        "other",
    )
    OUTCOME_CHOICES = [
        (LIVE_BIRTH, "活产"),
        (STILLBIRTH, "死胎死产"),
        (MISCARRIAGE, "自然流产"),
        (INDUCED, "人工流产/引产"),
        (ECTOPIC, "异位妊娠"),
        (OTHER, "其他"),
    ]

    registration = models.ForeignKey(
        Registration, verbose_name="登记", on_delete=models.PROTECT, related_name="followups"
    )
    kind = models.CharField("随访类型", max_length=8, choices=KIND_CHOICES)
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    due_on = models.DateField("应随访日期")
    call_task = models.OneToOneField(
        "messaging.CallTask",
        verbose_name="话务任务",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followup",
    )
    status = models.CharField("状态", max_length=10, choices=STATUS_CHOICES, default=OPEN)
    reached = models.BooleanField("已联系上", null=True, blank=True)
    pregnant = models.BooleanField("已怀孕", null=True, blank=True)
    lmp = models.DateField("末次月经日期", null=True, blank=True)
    outcome = models.CharField("妊娠结局", max_length=12, choices=OUTCOME_CHOICES, blank=True)
    outcome_date = models.DateField("结局日期", null=True, blank=True)
    notes = models.TextField("随访记录", blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="随访人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    done_at = models.DateTimeField("随访时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "随访"
        verbose_name_plural = "随访"
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "kind"],
                condition=models.Q(status="open"),
                name="followup_one_open_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.registration.number} {self.get_kind_display()}"


class Pregnancy(models.Model):
    """A recorded pregnancy: its dates drive the pregnancy SMS campaign (about 20 messages)."""

    ONGOING, ENDED = "ongoing", "ended"
    registration = models.ForeignKey(
        Registration, verbose_name="登记", on_delete=models.PROTECT, related_name="pregnancies"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    lmp = models.DateField("末次月经日期")
    edd = models.DateField("预产期")
    status = models.CharField(
        "状态", max_length=8, choices=[(ONGOING, "孕期中"), (ENDED, "已结束")], default=ONGOING
    )
    outcome = models.CharField(
        "妊娠结局", max_length=12, choices=FollowUp.OUTCOME_CHOICES, blank=True
    )
    outcome_date = models.DateField("结局日期", null=True, blank=True)
    enrolment = models.ForeignKey(
        "messaging.Enrolment",
        verbose_name="孕期短信",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField("记录时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "孕情"
        verbose_name_plural = "孕情"
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(status="ongoing"),
                name="pregnancy_one_ongoing",
            )
        ]

    def __str__(self):
        return f"{self.registration.number} 末次月经{self.lmp:%Y-%m-%d}"


class Article(models.Model):
    """Portal content: health education, the check schedule, process and precautions
    (定期公布检查时间、服务地点、服务流程、注意事项)."""

    EDUCATION, SCHEDULE, PROCESS, PRECAUTIONS = "education", "schedule", "process", "precautions"
    KIND_CHOICES = [
        (EDUCATION, "健康教育"),
        (SCHEDULE, "检查安排"),
        (PROCESS, "服务流程"),
        (PRECAUTIONS, "注意事项"),
    ]
    kind = models.CharField("栏目", max_length=12, choices=KIND_CHOICES)
    title = models.CharField("标题", max_length=100)
    body = models.TextField("正文")
    is_published = models.BooleanField("已发布", default=False)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="编写人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "好孕文章"
        verbose_name_plural = "好孕文章"
        ordering = ["kind", "-published_at", "-id"]

    def __str__(self):
        return self.title


class Target(models.Model):
    """A town's yearly target population for the free check (coverage = couples checked /
    target). Set by the county; module 4's targets will read these too."""

    place = models.ForeignKey(
        Place, verbose_name="乡镇", on_delete=models.PROTECT, related_name="+"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    year = models.PositiveSmallIntegerField("年度")
    couples = models.PositiveIntegerField("目标人群（对）")

    scope_path = "place_path"

    class Meta:
        verbose_name = "检查目标人群"
        verbose_name_plural = "检查目标人群"
        ordering = ["year", "place_path"]
        constraints = [
            models.UniqueConstraint(fields=["place", "year"], name="target_once_per_year")
        ]

    def __str__(self):
        return f"{self.place.name} {self.year}年 {self.couples}对"
