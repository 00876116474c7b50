from django.contrib.auth.models import AbstractUser
from django.db import models

from sunshine.accounts import roles


class User(AbstractUser):
    """A staff member: a role, a place where they may change records (capture scope) and an
    optional wider place where they may only read (view scope)."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    role = models.CharField("角色", max_length=32, choices=roles.ROLE_CHOICES, blank=True)
    place = models.ForeignKey(
        "places.Place",
        verbose_name="管辖地方",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    view_place = models.ForeignKey(
        "places.Place",
        verbose_name="可查看范围",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="viewers",
        help_text="比管辖地方更宽的只读范围，可不填。",
    )
    mobile = models.CharField("手机号码", max_length=11, blank=True)
    title = models.CharField("职务", max_length=50, blank=True)

    scope_path = "place__path"

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or super().get_full_name()

    @property
    def role_label(self) -> str:
        return roles.ROLE_LABELS.get(self.role, "超级管理员" if self.is_superuser else "")

    def can(self, capability: str) -> bool:
        if not self.is_active:
            return False
        return self.is_superuser or roles.has_capability(self.role, capability)
