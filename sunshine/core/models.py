from django.conf import settings
from django.db import models


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("审计日志只能追加，不能修改。")

    def delete(self):
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditEntry(models.Model):
    """One row per change and per read of a sensitive field. Append-only (also in the DB)."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField("操作人名称", max_length=150, blank=True)
    action = models.CharField("动作", max_length=64, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True, db_index=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    place_path = models.CharField("所属区划前缀", max_length=32, blank=True, db_index=True)
    sensitive = models.BooleanField("敏感信息查阅", default=False)
    reason = models.CharField("事由", max_length=200, blank=True)
    ip = models.CharField("来源地址", max_length=45, blank=True)
    user_agent = models.CharField("客户端", max_length=200, blank=True)
    path = models.CharField("请求路径", max_length=300, blank=True)
    changes = models.JSONField("变更内容", default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    scope_path = "place_path"

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(
                fields=["place_path", "at"],
                name="audit_path_at",
                opclasses=["varchar_pattern_ops", "timestamptz_ops"],
            )
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("审计日志只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志只能追加，不能删除。")


class AuditSeal(models.Model):
    """One link of the audit log's hash chain (sunshine/core/auditchain.py, docs/audit.md).

    Written only by the sealer, in the order it finds committed entries; append-only like the
    log itself. `seq` is the chain position: unique, so two sealers can never fork the chain.
    """

    seq = models.PositiveBigIntegerField("环序号", primary_key=True)
    entry = models.OneToOneField(
        AuditEntry, verbose_name="审计日志", on_delete=models.PROTECT, related_name="seal"
    )
    prev_hash = models.CharField("前一环哈希", max_length=64)
    hash = models.CharField("本环哈希", max_length=64)
    sealed_at = models.DateTimeField("封存时间")

    class Meta:
        verbose_name = "审计日志封存"
        verbose_name_plural = "审计日志封存"
        ordering = ["seq"]

    def __str__(self):
        return f"第 {self.seq} 环 #{self.entry_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("审计日志封存只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("审计日志封存只能追加，不能删除。")


class AuditPending(models.Model):
    """Entries committed but not yet sealed: filled by a database trigger on every insert into
    the audit log (in the inserting transaction), emptied by the sealer."""

    entry = models.OneToOneField(
        AuditEntry,
        verbose_name="审计日志",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        verbose_name = "待封存审计日志"
        verbose_name_plural = "待封存审计日志"

    def __str__(self):
        return f"#{self.entry_id}"


class Job(models.Model):
    """A long piece of work run by the task worker (imports, batch documents), with progress."""

    QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
    INTERRUPTED = "interrupted"  # its worker died mid-run (no heartbeat within the lease)
    STATUS_CHOICES = [
        (QUEUED, "排队中"),
        (RUNNING, "进行中"),
        (SUCCEEDED, "已完成"),
        (FAILED, "未完成"),
        (INTERRUPTED, "已中断"),
    ]

    kind = models.CharField("类型", max_length=64)
    title = models.CharField("名称", max_length=200)
    status = models.CharField(
        "状态", max_length=16, choices=STATUS_CHOICES, default=QUEUED, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    place_path = models.CharField("所属区划前缀", max_length=32, blank=True, db_index=True)
    input_file = models.FileField("上传文件", upload_to="jobs/in/", blank=True)
    input_name = models.CharField("原文件名", max_length=200, blank=True)
    options = models.JSONField("选项", default=dict, blank=True)
    message = models.TextField("结果说明", blank=True)
    errors = models.JSONField("错误明细", default=list, blank=True)
    result = models.JSONField("结果", default=dict, blank=True)
    result_file = models.FileField("结果文件", upload_to="jobs/out/", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    attempts = models.PositiveSmallIntegerField("运行次数", default=0)

    scope_path = "place_path"

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status in (self.SUCCEEDED, self.FAILED, self.INTERRUPTED)
