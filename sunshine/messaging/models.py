from django.conf import settings
from django.db import models

from sunshine.messaging import rules

CATEGORY_CHOICES = [(rules.ESSENTIAL, "必要通知"), (rules.NON_ESSENTIAL, "一般提醒（可退订）")]
MESSAGE_CATEGORY_CHOICES = [*CATEGORY_CHOICES, (rules.INSTANT, "验证码（免打扰时段也发送）")]
STATUS_CHOICES = list(rules.STATUS_LABELS.items())


class Template(models.Model):
    """A message template with named parameters: "{name}您好，您的检查时间是{date}。"."""

    code = models.SlugField("代码", max_length=60, unique=True)
    name = models.CharField("名称", max_length=100)
    body = models.TextField("内容", max_length=450)
    params = models.JSONField("参数", default=list, blank=True, editable=False)
    category = models.CharField(
        "类别", max_length=16, choices=CATEGORY_CHOICES, default=rules.NON_ESSENTIAL
    )
    provider_code = models.CharField(
        "服务商模板代码",
        max_length=40,
        blank=True,
        help_text="阿里云短信的 TemplateCode（模板须先经审核）",
    )
    is_active = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "短信模板"
        verbose_name_plural = "短信模板"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Message(models.Model):
    """One SMS in the outbox. `out_id` goes to the gateway (OutId) and comes back in receipts:
    a message resent after a crash carries the same one."""

    # Indexes are few on purpose, and the references carry no database constraint: campaigns
    # write millions of rows here (each index entry and each deferred foreign-key check is paid
    # per row: with the three constraints and two more indexes, enrolment ran at a third of
    # today's speed). No index covers a column that a send changes (status, sent_at, body …),
    # so on PostgreSQL the send's new row version is HOT (no index entries, same page): the
    # claim reads SendQueue, not an index on status, and the table keeps room on its pages
    # for the text written at send (fillfactor, migration 0012).
    # Rows are written only by this app's services, from rows they have just read; Django
    # still refuses to delete a resident, place or template that messages point to (PROTECT).
    out_id = models.CharField("发送编号", max_length=40)
    mobile = models.CharField("手机号码", max_length=11)
    resident = models.ForeignKey(
        "people.Resident",
        verbose_name="居民",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # nothing reads messages by resident
        db_constraint=False,
    )
    place = models.ForeignKey(
        "places.Place",
        verbose_name="地方",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # reads go by place_path
        db_constraint=False,
    )
    place_path = models.CharField("区划前缀", max_length=16, blank=True)
    programme = models.CharField("项目", max_length=40)
    category = models.CharField(
        "类别", max_length=16, choices=MESSAGE_CATEGORY_CHOICES, default=rules.NON_ESSENTIAL
    )
    template = models.ForeignKey(
        Template,
        verbose_name="模板",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,
        db_constraint=False,
    )
    enrolment = models.ForeignKey(
        "Enrolment",
        verbose_name="短信计划对象",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="messages",
        db_index=False,  # a partial index, see Meta
        db_constraint=False,
    )
    params = models.JSONField("参数", default=dict, blank=True)
    body = models.TextField("内容", blank=True, help_text="按模板的消息在发送时才生成内容")
    signature = models.CharField("签名", max_length=20, blank=True)
    status = models.CharField("状态", max_length=12, choices=STATUS_CHOICES, default=rules.QUEUED)
    due_at = models.DateTimeField("计划发送时间")
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    claimed_until = models.DateTimeField("占用到", null=True, blank=True)
    claimed_by = models.CharField("发送进程", max_length=60, blank=True)
    segments = models.PositiveSmallIntegerField("计费条数", default=0)
    cost = models.DecimalField("费用（元）", max_digits=8, decimal_places=3, default=0)
    provider_id = models.CharField("服务商回执编号", max_length=60, blank=True)
    error = models.CharField("错误", max_length=200, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    source = models.CharField(
        "来源", max_length=60, blank=True, help_text="产生这条短信的对象，如 campaign:3:event:7"
    )
    fire_version = models.PositiveIntegerField("计划版本", default=0)
    ready = models.BooleanField(
        "已进入发送队列",
        default=True,
        db_default=True,
        help_text="短信计划的短信在计划时间前两天（SUNSHINE_SMS_READY_HOURS）才进入发送队列",
    )

    scope_path = "place_path"

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = "短信"
        ordering = ["-id"]  # newest first; ids rise with creation and the primary key serves it
        # The rows a worker may claim: on PostgreSQL, SendQueue; on SQLite, the partial index
        # message_due on (due_at) WHERE status IN ('queued', 'sending') AND ready, made by
        # migration 0012 for SQLite only. Either way a campaign message joins it two days
        # before it is due (campaigns.messages_make_ready; until then its enrolment's
        # next_ready_at stands for it), so that a campaign of two million messages does not
        # pay it at enrolment.
        indexes = [
            # An enrolment's messages (moved, cancelled, re-planned): written in enrolment
            # order, so a bulk enrolment appends at the index's right edge.
            models.Index(
                fields=["enrolment"],
                name="message_enrolment",
                condition=models.Q(enrolment__isnull=False),
            ),
            # What was sent to a number (rate limits, replies, the reply's place): the rows
            # that are or were in the send queue, so a query names `ready` with `sent_at`. A
            # message enters when it becomes ready (at enqueue; a campaign's two days ahead),
            # not at its send, which so adds no index entry, nor at a campaign's enrolment.
            # The outbox search by number and the ledger by place read the table (a scoped
            # list walks the primary key backwards).
            models.Index(fields=["mobile"], name="message_mobile", condition=models.Q(ready=True)),
            # Verification codes, claimed by due time during quiet hours (services._claim). No
            # column a send changes is in it, so the send stays a HOT update on PostgreSQL.
            models.Index(
                fields=["due_at"],
                name="message_instant_due",
                condition=models.Q(category=rules.INSTANT),
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["out_id"], name="message_out_id_once")]

    def __str__(self):
        return f"{self.out_id} → {self.mobile[:3]}****{self.mobile[-4:]}"


class SendQueue(models.Model):
    """PostgreSQL's claim queue: one row per message a worker may claim (queued and ready), by
    due time. Triggers on the outbox keep it (migration 0012: a message that becomes queued and
    ready gets its row, one that stops being so loses it, a moved one moves it); a worker's
    claim deletes the rows of the messages it takes, inside its transaction, so a killed
    worker's rows come back with its rollback. The outbox row itself then changes no indexed
    column when it is sent. Empty on SQLite, whose claim reads the partial index message_due."""

    message = models.OneToOneField(
        Message,
        primary_key=True,
        on_delete=models.DO_NOTHING,  # the trigger removes the row with its message
        db_constraint=False,
        related_name="+",
    )
    due_at = models.DateTimeField("计划发送时间")

    class Meta:
        verbose_name = verbose_name_plural = "发送队列"
        indexes = [models.Index(fields=["due_at"], name="sendqueue_due")]

    def __str__(self):
        return f"{self.message_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class Attempt(models.Model):
    message = models.ForeignKey(
        Message, verbose_name="短信", on_delete=models.PROTECT, related_name="history"
    )
    at = models.DateTimeField("时间", auto_now_add=True)
    event = models.CharField("事件", max_length=20)
    detail = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["message", "at", "id"]

    def __str__(self):
        return f"{self.event} {self.detail}"


class Receipt(models.Model):
    """A delivery receipt as received; pushes repeat, so (provider id, phone) is unique."""

    provider_id = models.CharField("服务商回执编号", max_length=60)
    mobile = models.CharField("手机号码", max_length=11)
    out_id = models.CharField("发送编号", max_length=40, blank=True)
    success = models.BooleanField("成功")
    code = models.CharField("状态码", max_length=40, blank=True)
    detail = models.CharField("说明", max_length=200, blank=True)
    parts = models.PositiveSmallIntegerField("计费条数", default=1)
    received_at = models.DateTimeField("收到时间", auto_now_add=True)

    class Meta:
        verbose_name = "回执"
        verbose_name_plural = "回执"
        constraints = [
            models.UniqueConstraint(fields=["provider_id", "mobile"], name="receipt_once")
        ]

    def __str__(self):
        return f"{self.provider_id} {self.code}"


class OptOut(models.Model):
    """A number that replied TD/退订: no non-essential messages until it opts back in."""

    mobile = models.CharField("手机号码", max_length=11, unique=True)
    is_active = models.BooleanField("退订中", default=True)
    changed_at = models.DateTimeField("变更时间", auto_now=True)
    word = models.CharField("回复内容", max_length=20, blank=True)

    class Meta:
        verbose_name = "退订"
        verbose_name_plural = "退订"

    def __str__(self):
        return f"{self.mobile[:3]}****{self.mobile[-4:]}"


class Reply(models.Model):
    """An incoming SMS (上行), matched to a person and routed."""

    ROUTES = [
        ("answer", "回答"),
        ("objection", "公示异议"),
        ("optout", "退订"),
        ("optin", "恢复订阅"),
        ("inbox", "咨询收件箱"),
    ]

    mobile = models.CharField("手机号码", max_length=11, db_index=True)
    content = models.CharField("内容", max_length=500)
    sequence_id = models.CharField("序号", max_length=60, unique=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    received_at = models.DateTimeField("收到时间", auto_now_add=True)
    resident = models.ForeignKey(
        "people.Resident",
        verbose_name="居民",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    place_path = models.CharField("区划前缀", max_length=16, blank=True, db_index=True)
    route = models.CharField("去向", max_length=10, choices=ROUTES)
    handled = models.BooleanField("已处理", default=False)
    note = models.CharField("处理说明", max_length=200, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "上行短信"
        verbose_name_plural = "上行短信"
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return self.content[:20]


class CallTask(models.Model):
    """Work for a call-centre operator (人工话务): a message that could not be delivered, or a
    person with no mobile."""

    OPEN, DONE = "open", "done"
    message = models.OneToOneField(
        Message,
        verbose_name="短信",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_task",
    )
    resident = models.ForeignKey(
        "people.Resident",
        verbose_name="居民",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    mobile = models.CharField("电话", max_length=20, blank=True)
    place_path = models.CharField("区划前缀", max_length=16, blank=True, db_index=True)
    reason = models.CharField("原因", max_length=200)
    script = models.TextField("话术/内容")
    status = models.CharField(
        "状态", max_length=8, choices=[(OPEN, "待处理"), (DONE, "已完成")], default=OPEN
    )
    outcome = models.CharField("结果", max_length=200, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="话务员",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "人工话务"
        verbose_name_plural = "人工话务"
        ordering = ["status", "created_at", "id"]

    def __str__(self):
        return self.reason


# ---- campaigns (SPEC §7 "Campaigns"): schedules as data ------------------------------------


class Campaign(models.Model):
    """A schedule of messages relative to a date on a person or case (末次月经日期, 预产期,
    检查日期). Each change to its events bumps `version`; messages carry the version they were
    planned with (Message.fire_version) and a stale one drops out instead of being sent."""

    code = models.SlugField("代码", max_length=60, unique=True)
    name = models.CharField("名称", max_length=100)
    anchor_label = models.CharField(
        "起算日期", max_length=20, help_text="短信按这个日期推算，如“末次月经日期”“预产期”"
    )
    programme = models.CharField("项目", max_length=40, help_text="计入费用台账的项目，如 precheck")
    description = models.TextField("说明", blank=True)
    version = models.PositiveIntegerField("计划版本", default=1, editable=False)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "短信计划"
        verbose_name_plural = "短信计划"
        ordering = ["code"]

    def __str__(self):
        return self.name


class CampaignEvent(models.Model):
    """One message of a campaign: `offset_days` after the anchor date (negative = before it),
    sent at `send_time` Beijing time. `{date}` in the template is the anchor plus
    `date_offset_days` (the visit deadline, say), or the sending day when that is empty."""

    campaign = models.ForeignKey(
        Campaign, verbose_name="短信计划", on_delete=models.PROTECT, related_name="events"
    )
    offset_days = models.IntegerField("相对天数", help_text="起算日期之后第几天，负数为之前")
    send_time = models.TimeField("发送时刻")
    template = models.ForeignKey(
        Template, verbose_name="模板", on_delete=models.PROTECT, related_name="campaign_events"
    )
    date_offset_days = models.IntegerField(
        "{date}相对天数", null=True, blank=True, help_text="模板中{date}所指的日期；空则为发送当天"
    )
    position = models.PositiveSmallIntegerField("顺序", default=0)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "短信计划事件"
        verbose_name_plural = "短信计划事件"
        ordering = ["campaign", "offset_days", "send_time", "position", "id"]

    def __str__(self):
        return f"{self.campaign} 第{self.offset_days}天 {self.send_time:%H:%M}"


class Enrolment(models.Model):
    """A person (a resident, or a mobile number with a name) in a campaign from an anchor date.
    `campaign_version` is the campaign version its pending messages were planned with;
    `source` finds the enrolment again from the case that made it ("precheck:couple:12")."""

    ACTIVE, CLOSED = "active", "closed"
    STATUS_CHOICES = [(ACTIVE, "进行中"), (CLOSED, "已结束")]

    # Indexes: a bulk enrolment writes 100,000 rows at a time. The campaign's own index is
    # enrolment_due (it starts with the campaign); places are read by place_path; sources
    # only with their campaign, through the unique constraint's index.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name="短信计划",
        on_delete=models.PROTECT,
        related_name="enrolments",
        db_index=False,
    )
    resident = models.ForeignKey(
        "people.Resident",
        verbose_name="居民",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField("称呼", max_length=50, help_text="短信里的{name}")
    mobile = models.CharField("手机号码", max_length=11, blank=True)
    place = models.ForeignKey(
        "places.Place",
        verbose_name="地方",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    place_path = models.CharField("区划前缀", max_length=16, blank=True)
    anchor_date = models.DateField("起算日期")
    status = models.CharField("状态", max_length=8, choices=STATUS_CHOICES, default=ACTIVE)
    campaign_version = models.PositiveIntegerField("计划版本", default=1)
    done_through = models.IntegerField(
        "已过事件（天）",
        null=True,
        blank=True,
        help_text="偏移天数不超过此数的事件已经过去，不再发送（如已分娩：产前提醒都不再发）",
    )
    source = models.CharField("来源", max_length=60, blank=True, help_text="如 precheck:couple:12")
    next_ready_at = models.DateTimeField(
        "下一条待入队短信",
        null=True,
        blank=True,
        help_text="尚未进入发送队列的短信中最早的计划时间（不晚于它）",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    close_reason = models.CharField("结束原因", max_length=200, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "短信计划对象"
        verbose_name_plural = "短信计划对象"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["place_path"], name="enrolment_path", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["campaign", "status", "campaign_version"], name="enrolment_due"),
            models.Index(
                fields=["next_ready_at"],
                name="enrolment_next_ready",
                condition=models.Q(next_ready_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "source"],
                condition=models.Q(status="active") & ~models.Q(source=""),
                name="enrolment_active_once",
            )
        ]

    def __str__(self):
        return f"{self.campaign} · {self.name}"


class Subscription(models.Model):
    """A mobile that asked for a short SMS whenever a place's board publishes something."""

    mobile = models.CharField("手机号码", max_length=11)
    place = models.ForeignKey(
        "places.Place", verbose_name="公示栏", on_delete=models.PROTECT, related_name="+"
    )
    place_path = models.CharField("区划前缀", max_length=16, db_index=True)
    is_active = models.BooleanField("订阅中", default=True)
    created_at = models.DateTimeField("订阅时间", auto_now_add=True)
    ip = models.CharField("来源地址", max_length=45, blank=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "公示栏短信订阅"
        verbose_name_plural = "公示栏短信订阅"
        constraints = [
            models.UniqueConstraint(fields=["mobile", "place"], name="subscription_once")
        ]

    def __str__(self):
        return f"{self.mobile[:3]}****{self.mobile[-4:]} → {self.place_id}"


class VerificationCode(models.Model):
    """An SMS code sent to a mobile so that a public form may act for it (subscribe,
    unsubscribe, withdraw). Only a keyed hash of the code is kept; it is valid for
    SUNSHINE_SMS_CODE_MINUTES, for SUNSHINE_SMS_CODE_TRIES tries, and once."""

    mobile = models.CharField("手机号码", max_length=11)
    purpose = models.CharField("用途", max_length=80)
    code_hash = models.CharField("验证码摘要", max_length=64)
    created_at = models.DateTimeField("发送时间")
    expires_at = models.DateTimeField("失效时间")
    tries = models.PositiveSmallIntegerField("已尝试次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    ip = models.CharField("来源地址", max_length=45, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        indexes = [
            models.Index(fields=["mobile", "created_at"], name="verification_mobile"),
            models.Index(fields=["ip", "created_at"], name="verification_ip"),
        ]

    def __str__(self):
        return f"{self.purpose} → {self.mobile[:3]}****{self.mobile[-4:]}"
