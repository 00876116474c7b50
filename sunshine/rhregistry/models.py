"""熊猫血友会: the voluntary, confidential Rh-negative mutual-aid registry (SPEC §11).

A volunteer (Donor) registers with explicit, separate consent (time, scope and the version of
the consent text recorded). Staff with `rh.registry` search for compatible donors for a
patient (Search, an audit log of its own), propose contacts (ContactRequest, pending) and
confirm them; only a confirmed request sends an SMS. Withdrawal stops all processing: the
donor's identifying fields are erased and only a tombstone (place, consent and withdrawal
dates) is kept for the audit trail. Every row carries `place_path` for the scoping mechanism.
"""

from django.conf import settings
from django.db import models

from sunshine.core.masking import mask_name
from sunshine.places.models import Place
from sunshine.rhregistry import rules


class Donor(models.Model):
    ONLINE, STAFF = "online", "staff"
    CHANNEL_CHOICES = [(ONLINE, "本人网上登记"), (STAFF, "工作人员代为登记")]
    SEX_CHOICES = [("M", "男"), ("F", "女")]

    name = models.CharField("姓名", max_length=50, blank=True)
    id_number = models.CharField("身份证号码", max_length=18, blank=True, db_index=True)
    mobile = models.CharField("手机号码", max_length=11, blank=True)
    sex = models.CharField("性别", max_length=1, choices=SEX_CHOICES, blank=True)
    birth_date = models.DateField("出生日期", null=True, blank=True)
    abo = models.CharField("ABO血型", max_length=2, choices=rules.ABO_CHOICES)
    rhd = models.CharField(
        "RhD血型", max_length=8, choices=rules.DONOR_RHD_CHOICES, default=rules.NEG
    )
    rh_note = models.CharField(
        "血型说明", max_length=100, blank=True, help_text="如：县血站确认试验阴性（2024年）"
    )
    place = models.ForeignKey(
        Place, verbose_name="所在地", on_delete=models.PROTECT, related_name="+"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False)
    consent_at = models.DateTimeField("同意时间")
    consent_scope = models.JSONField("同意范围", default=list)
    consent_text_version = models.CharField("同意书版本", max_length=20)
    channel = models.CharField("登记渠道", max_length=8, choices=CHANNEL_CHOICES)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField("在册", default=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdraw_reason = models.CharField("撤回原因", max_length=200, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代为撤回的工作人员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    last_contacted_at = models.DateTimeField("最近联系时间", null=True, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "熊猫血志愿者"
        verbose_name_plural = "熊猫血志愿者"
        ordering = ["place_path", "id"]
        indexes = [
            models.Index(
                fields=["place_path"], name="rh_donor_path", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["is_active", "abo"], name="rh_donor_active_abo"),
        ]
        constraints = [
            # One active registration per person; withdrawn tombstones have no ID number.
            models.UniqueConstraint(
                fields=["id_number"],
                condition=models.Q(is_active=True),
                name="rh_donor_one_active_per_id",
            )
        ]

    def __str__(self):
        if not self.is_active:
            return f"志愿者#{self.pk}（已撤回）"
        return f"志愿者#{self.pk} {mask_name(self.name)}"

    @property
    def blood_label(self) -> str:
        return rules.blood_label(self.abo, self.rhd)

    @property
    def scope_labels(self) -> list[str]:
        return [rules.CONSENT_SCOPE_LABELS.get(s, s) for s in self.consent_scope]

    @property
    def scope_short(self) -> str:
        return "、".join(rules.CONSENT_SCOPE_SHORT.get(s, s) for s in self.consent_scope)


class Search(models.Model):
    """One compatible-donor search: who, for which patient blood group, where, why, and what
    came back. Kept as the registry's own access log (besides the audit row)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="查询人", on_delete=models.PROTECT, related_name="+"
    )
    patient_abo = models.CharField("患者ABO血型", max_length=2, choices=rules.ABO_CHOICES)
    patient_rhd = models.CharField("患者RhD血型", max_length=8, choices=rules.RHD_CHOICES)
    place = models.ForeignKey(
        Place, verbose_name="查找范围", on_delete=models.PROTECT, related_name="+"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False)
    near = models.ForeignKey(
        Place,
        verbose_name="患者所在地（按远近排序）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    hospital = models.CharField("用血医院", max_length=60)
    contact_phone = models.CharField("联系电话", max_length=20)
    patient_ref = models.CharField(
        "患者床号或住院号", max_length=60, help_text="仅留档备查，不写患者姓名，不发短信"
    )
    reason = models.CharField("查询原因", max_length=200, blank=True)
    result_count = models.PositiveIntegerField("结果数", default=0)
    donor_ids = models.JSONField("结果志愿者", default=list, blank=True)
    created_at = models.DateTimeField("查询时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "配型查询"
        verbose_name_plural = "配型查询"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"查询#{self.pk} {self.hospital} {self.patient_label}"

    @property
    def patient_label(self) -> str:
        return rules.blood_label(self.patient_abo, self.patient_rhd)


class ContactRequest(models.Model):
    PENDING, SENT, CANCELLED = "pending", "sent", "cancelled"
    STATUS_CHOICES = [(PENDING, "待确认"), (SENT, "已确认并发送"), (CANCELLED, "已取消")]

    search = models.ForeignKey(
        Search, verbose_name="查询", on_delete=models.PROTECT, related_name="requests"
    )
    donor = models.ForeignKey(
        Donor, verbose_name="志愿者", on_delete=models.PROTECT, related_name="requests"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False)
    status = models.CharField("状态", max_length=10, choices=STATUS_CHOICES, default=PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="申请人", on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="取消人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    cancel_reason = models.CharField("取消原因", max_length=200, blank=True)
    message = models.ForeignKey(
        "messaging.Message",
        verbose_name="短信",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("申请时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "联系申请"
        verbose_name_plural = "联系申请"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["search", "donor"], name="rh_request_once_per_search")
        ]

    def __str__(self):
        return f"联系申请#{self.pk}（{self.get_status_display()}）"
