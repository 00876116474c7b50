from django.db import models

from sunshine.places import rules

LEVEL_CHOICES = [(k, v) for k, v in rules.LEVEL_LABELS.items()]


class Place(models.Model):
    """A node of the division-code tree, or a unit or residence hung under a town or village."""

    code = models.CharField("编码", max_length=16, unique=True)
    path = models.CharField("前缀", max_length=16, unique=True, editable=False)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=16, choices=LEVEL_CHOICES, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    urban_rural_code = models.CharField("城乡分类代码", max_length=3, blank=True)
    code_year = models.PositiveSmallIntegerField("代码年份", null=True, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_path = "path"

    class Meta:
        verbose_name = "地方"
        verbose_name_plural = "地方"
        ordering = ["path"]
        indexes = [
            models.Index(fields=["parent", "level"]),
            # Prefix scoping is LIKE 'path%': PostgreSQL needs pattern ops unless the collation is C.
            models.Index(
                fields=["path"], name="place_path_like", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def level_label(self) -> str:
        return rules.LEVEL_LABELS[self.level]

    @property
    def kind_label(self) -> str:
        """街道 / 镇 / 乡 / 园区 for towns, 市 for a city without counties; the level's label
        otherwise."""
        if self.level == rules.TOWN:
            return rules.town_kind(self.code)
        return "市" if rules.is_countyless_city(self.code) else self.level_label

    @property
    def display_name(self) -> str:
        """A group's name alone ("第1组") says little: prefix its village's (parent must be loaded)."""
        if self.level == rules.GROUP and self.parent_id and "parent" in self._state.fields_cache:
            return f"{self.parent.name}{self.name}"
        return self.name

    @property
    def is_publication_level(self) -> bool:
        return self.level in rules.PUBLICATION_LEVELS

    def ancestor_paths(self) -> list[str]:
        """Paths of this place and all above it, top first (no query)."""
        out, code = [], self.code
        while code is not None:
            out.append(rules.path_of_code(code))
            code = rules.parent_code(code)
        return list(reversed(out))


class Contact(models.Model):
    """A department phone number or the supervision/complaint hotline of a place (SPEC §2, §10)."""

    KIND_CHOICES = [("office", "办公电话"), ("hotline", "监督投诉电话")]

    place = models.ForeignKey(
        Place, verbose_name="地方", on_delete=models.PROTECT, related_name="contacts"
    )
    kind = models.CharField("类别", max_length=16, choices=KIND_CHOICES, default="office")
    department = models.CharField("部门", max_length=100)
    phone = models.CharField("电话", max_length=40)
    hours = models.CharField("办公时间", max_length=100, blank=True)
    position = models.PositiveSmallIntegerField("排序", default=0)

    scope_path = "place__path"

    class Meta:
        verbose_name = "联系电话"
        verbose_name_plural = "联系电话"
        ordering = ["place__path", "kind", "position", "id"]

    def __str__(self):
        return f"{self.department} {self.phone}"
