from django.conf import settings
from django.db import models
from django.utils import timezone

from sunshine.places.models import Place
from sunshine.publishing import rules

STATUS_CHOICES = list(rules.STATUS_LABELS.items())
KIND_CHOICES = list(rules.KIND_LABELS.items())


class Category(models.Model):
    """A kind of public content (configurable by the county admin)."""

    code = models.SlugField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    description = models.CharField("说明", max_length=200, blank=True)
    notice_days = models.PositiveSmallIntegerField(
        "公示天数", default=0, help_text="0 表示普通公开；大于 0 表示公示，公示期内可以提出异议。"
    )
    position = models.PositiveSmallIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "公开类别"
        verbose_name_plural = "公开类别"
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    @property
    def is_notice(self) -> bool:
        return self.notice_days > 0


class PublicationState(models.Model):
    """One row: a counter bumped on every publish, correction or withdrawal, so that every
    web process knows when its cached board pages are stale."""

    generation = models.PositiveBigIntegerField("版本", default=0)

    class Meta:
        verbose_name = "发布状态"
        verbose_name_plural = "发布状态"

    def __str__(self):
        return f"发布版本 {self.generation}"


class Item(models.Model):
    """A publication: one identity through drafts, review, corrections and withdrawal."""

    public_id = models.CharField("公开编号", max_length=16, unique=True)
    kind = models.CharField(
        "类型", max_length=16, choices=KIND_CHOICES, default=rules.KIND_DISCLOSURE
    )
    category = models.ForeignKey(
        Category, verbose_name="类别", on_delete=models.PROTECT, related_name="items"
    )
    place = models.ForeignKey(
        Place, verbose_name="发布地方", on_delete=models.PROTECT, related_name="items"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    target_levels = models.CharField("同步公开层级", max_length=80, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=STATUS_CHOICES, default=rules.DRAFT, db_index=True
    )
    current = models.ForeignKey(
        "ItemVersion",
        verbose_name="当前版本",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    spokesperson = models.CharField("发言人", max_length=60, blank=True)
    publish_at = models.DateTimeField("计划发布时间", null=True, blank=True)
    expires_at = models.DateTimeField("下架时间", null=True, blank=True)
    published_at = models.DateTimeField("首次发布时间", null=True, blank=True, db_index=True)
    notice_ends_at = models.DateTimeField("公示截止", null=True, blank=True)
    finalised_at = models.DateTimeField("公示办结时间", null=True, blank=True)
    outcome = models.TextField("公示结果", blank=True)
    review_note = models.CharField("审核意见", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="起草人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,  # None: made by the system (demo, imports)
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "公开事项"
        verbose_name_plural = "公开事项"
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["status", "place", "published_at"], name="item_board_own"),
            models.Index(
                fields=["place_path"], name="item_path_like", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.current.title if self.current_id else f"事项 {self.public_id}"

    @property
    def levels(self) -> list[str]:
        return rules.decode_levels(self.target_levels)

    @property
    def is_notice(self) -> bool:
        return self.kind == rules.KIND_NOTICE


class ItemVersion(models.Model):
    """The text of an item. A published version is never edited: a correction is a new version."""

    item = models.ForeignKey(
        Item, verbose_name="事项", on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField("版本号")
    title = models.CharField("标题", max_length=200)
    summary = models.CharField("摘要", max_length=300, blank=True)
    body = models.TextField("正文", blank=True)
    table = models.JSONField(
        "表格", default=dict, blank=True, help_text='{"headers": [...], "rows": [[...]]}'
    )
    change_note = models.CharField("更正说明", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="起草人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,  # None: made by the system (demo, imports)
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "事项版本"
        verbose_name_plural = "事项版本"
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="version_number_once")
        ]

    def __str__(self):
        return f"{self.title}（第{self.number}版）"

    @property
    def is_frozen(self) -> bool:
        return self.published_at is not None


class ListEntry(models.Model):
    """A person on a notice's list (e.g. proposed for reward assistance). Public output shows
    only the masked name and ID number, the village and the matter."""

    version = models.ForeignKey(
        ItemVersion, verbose_name="版本", on_delete=models.PROTECT, related_name="entries"
    )
    resident = models.ForeignKey(
        "people.Resident",
        verbose_name="居民",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField("姓名", max_length=50)
    id_number = models.CharField("身份证号码", max_length=18, blank=True)
    place_name = models.CharField("村（居）", max_length=100, blank=True)
    matter = models.CharField("事项", max_length=200, blank=True)
    position = models.PositiveIntegerField("序号", default=0)

    class Meta:
        verbose_name = "名单"
        verbose_name_plural = "名单"
        ordering = ["version", "position", "id"]

    def __str__(self):
        from sunshine.core.masking import mask_name

        return mask_name(self.name)


class Attachment(models.Model):
    version = models.ForeignKey(
        ItemVersion, verbose_name="版本", on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField("文件", upload_to="publishing/%Y/%m/")
    title = models.CharField("名称", max_length=120)
    content_type = models.CharField("类型", max_length=40)
    size = models.PositiveIntegerField("大小")
    sha256 = models.CharField("校验值", max_length=64)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        verbose_name_plural = "附件"
        ordering = ["version", "id"]

    def __str__(self):
        return self.title

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class Objection(models.Model):
    """An objection (异议) to a public notice, filed by anyone during the notice period."""

    STATUS_CHOICES = [(rules.OBJECTION_OPEN, "待答复"), (rules.OBJECTION_ANSWERED, "已答复")]

    item = models.ForeignKey(
        Item, verbose_name="公示", on_delete=models.PROTECT, related_name="objections"
    )
    item_path = models.CharField("区划前缀", max_length=16, editable=False, db_index=True)
    tracking_code = models.CharField("查询码", max_length=12, unique=True)
    name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    text = models.TextField("异议内容", max_length=2000)
    channel = models.CharField(
        "渠道", max_length=8, default="web", choices=[("web", "网上"), ("sms", "短信")]
    )
    status = models.CharField(
        "状态", max_length=12, choices=STATUS_CHOICES, default=rules.OBJECTION_OPEN, db_index=True
    )
    answer = models.TextField("答复", blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="答复人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)
    ip = models.CharField("来源地址", max_length=45, blank=True)
    created_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)

    scope_path = "item_path"
    SENSITIVE_FIELDS = ("name", "phone", "ip")

    class Meta:
        verbose_name = "异议"
        verbose_name_plural = "异议"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"异议 {self.tracking_code}"
