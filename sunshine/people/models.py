from django.db import models

from sunshine.places.models import Place

SEX_CHOICES = [("M", "男"), ("F", "女")]
HUKOU_CHOICES = [("rural", "农村"), ("urban", "城镇")]
STATUS_CHOICES = [("resident", "在册"), ("moved", "迁出"), ("deceased", "死亡")]


class Household(models.Model):
    """A household (户), numbered as in the hukou register; unique within a county."""

    county_code = models.CharField("县级区划代码", max_length=6, editable=False)
    number = models.CharField("户号", max_length=32)
    place = models.ForeignKey(
        Place, verbose_name="所在地", on_delete=models.PROTECT, related_name="households"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False)
    address = models.CharField("住址", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "户"
        verbose_name_plural = "户"
        constraints = [
            models.UniqueConstraint(
                fields=["county_code", "number"], name="household_number_per_county"
            )
        ]
        indexes = [
            models.Index(
                fields=["place_path"], name="household_path", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self):
        return f"户号 {self.number}"


class Resident(models.Model):
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=1, choices=SEX_CHOICES)
    birth_date = models.DateField("出生日期")
    # Unique by a constraint, not unique=True: PostgreSQL then keeps one index, not a second
    # LIKE index, and imports of a million rows fill one index fewer.
    id_number = models.CharField("身份证号码", max_length=18)
    mobile = models.CharField("手机号码", max_length=11, blank=True)
    place = models.ForeignKey(
        Place, verbose_name="所在地", on_delete=models.PROTECT, related_name="residents"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False)
    household = models.ForeignKey(
        Household,
        verbose_name="户",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    residence = models.ForeignKey(
        Place,
        verbose_name="居住地",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dwellers",
        db_index=False,  # most residents have none: a partial index below
    )
    hukou_type = models.CharField("户籍类型", max_length=8, choices=HUKOU_CHOICES, default="rural")
    status = models.CharField("状态", max_length=12, choices=STATUS_CHOICES, default="resident")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_path = "place_path"
    SENSITIVE_FIELDS = ("id_number", "mobile")

    class Meta:
        verbose_name = "居民"
        verbose_name_plural = "居民"
        ordering = ["place_path", "name", "id"]
        indexes = [
            models.Index(
                fields=["place_path", "name"],
                name="resident_path_name",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["residence"],
                name="resident_residence",
                condition=models.Q(residence__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_number"], name="resident_id_number_once")
        ]

    def __str__(self):
        return self.name


class Couple(models.Model):
    """A married couple; children link to residents."""

    husband = models.ForeignKey(
        Resident, verbose_name="丈夫", on_delete=models.PROTECT, related_name="as_husband"
    )
    wife = models.ForeignKey(
        Resident, verbose_name="妻子", on_delete=models.PROTECT, related_name="as_wife"
    )
    marriage_date = models.DateField("结婚日期", null=True, blank=True)
    children = models.ManyToManyField(
        Resident, verbose_name="子女", blank=True, related_name="parent_couples"
    )
    place = models.ForeignKey(
        Place, verbose_name="所在地", on_delete=models.PROTECT, related_name="couples"
    )
    place_path = models.CharField("区划前缀", max_length=16, editable=False)
    is_active = models.BooleanField("婚姻存续", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_path = "place_path"

    class Meta:
        verbose_name = "夫妇"
        verbose_name_plural = "夫妇"
        constraints = [
            models.UniqueConstraint(fields=["husband", "wife"], name="couple_once"),
            models.CheckConstraint(
                condition=~models.Q(husband=models.F("wife")), name="couple_two_people"
            ),
        ]

    def __str__(self):
        return f"{self.husband.name}、{self.wife.name}"
