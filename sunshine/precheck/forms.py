"""Input validation for the registration and appointment pages (the rules live in services)."""

import datetime as dt
import re

from django import forms
from django.utils import timezone

from sunshine.core.errors import form_add_error
from sunshine.precheck import selectors, services
from sunshine.precheck.models import Registration

REQUIRED = "请填写{}。"


def _text(label: str, *, required: bool = True, max_length: int = 50, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        error_messages={
            "required": REQUIRED.format(label),
            "max_length": f"{label}最多{max_length}个字。",
        },
        widget=forms.TextInput(attrs={"class": "form-control", **attrs}),
    )


def _id_field(label):
    return _text(label, max_length=18, autocomplete="off", spellcheck="false", inputmode="text")


def _mobile_field(label, required):
    return _text(label, required=required, max_length=20, inputmode="tel", autocomplete="off")


class MonthField(forms.CharField):
    """ "2027-03" (an <input type="month">) or "2027年3月" → the first day of that month."""

    def to_python(self, value):
        value = super().to_python(value).strip()
        if not value:
            return None
        m = re.fullmatch(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*月?", value)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise forms.ValidationError("计划怀孕时间请按“2027-03”的格式填写年月。")
        return dt.date(int(m.group(1)), int(m.group(2)), 1)


class CoupleForm(forms.Form):
    woman_name = _text("女方姓名", autocomplete="off")
    woman_id_number = _id_field("女方身份证号码")
    woman_mobile = _mobile_field("女方手机号码", required=False)
    man_name = _text("男方姓名", autocomplete="off")
    man_id_number = _id_field("男方身份证号码")
    man_mobile = _mobile_field("男方手机号码", required=False)
    planned_month = MonthField(
        label="计划怀孕时间（选填）",
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "type": "month"}),
        help_text="如 2027-03。免费检查最好在计划怀孕前3到6个月做。",
    )
    consent_data = forms.BooleanField(
        label="我们同意按上述用途使用我们的个人信息和健康检查信息（必选）",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    consent_sms = forms.BooleanField(
        label="我们同意接收检查相关短信（可不选，不选时由工作人员电话通知）",
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    consent_data_text = services.CONSENT_DATA_TEXT
    consent_sms_text = services.CONSENT_SMS_TEXT
    # Service error field → form field.
    field_map: dict[str, str] = {}

    def couple_data(self) -> dict:
        d = self.cleaned_data
        keys = (
            "woman_name",
            "woman_id_number",
            "woman_mobile",
            "man_name",
            "man_id_number",
            "man_mobile",
            "consent_sms",
            "consent_data",
            "planned_month",
        )
        return {k: d.get(k) for k in keys}

    def add_service_error(self, exc) -> None:
        form_add_error(self, exc, self.field_map)


def _slot_label(slot) -> str:
    # For the templates: the whole time, and its day and hours apart (choices grouped by day).
    slot.when = services.slot_time_text(slot.starts_at)
    slot.day, _, slot.hours = slot.when.partition("）")
    slot.day += "）"
    slot.hours += "–" + timezone.localtime(slot.ends_at).strftime("%H:%M")
    return f"{slot.when}　余{slot.free}个号"


class _SlotChoices:
    """A form's `slot` choices, grouped by institution for the template (_slot_choices.html)."""

    def _set_slots(self, slots, head=()) -> None:
        self.slots = list(slots)
        self.fields["slot"].choices = [*head, *((str(s.pk), _slot_label(s)) for s in self.slots)]
        self.slot_groups = selectors.group_by_institution(self.slots)

    def chosen(self):
        """The chosen slot, or None when none was chosen."""
        pk = self.cleaned_data.get("slot")
        return next((s for s in self.slots if str(s.pk) == pk), None) if pk else None


class PublicRegisterForm(_SlotChoices, CoupleForm):
    """The couple's own form. The village list depends on the town chosen first (a GET step,
    so it works without JavaScript); slots are those of institutions serving that town."""

    town = forms.CharField(widget=forms.HiddenInput, required=False)
    village = forms.ChoiceField(
        label="现居住村（社区）",
        choices=[],
        error_messages={
            "required": "请选择现居住的村（社区）。",
            "invalid_choice": "请从列表中选择村（社区）。",
        },
        widget=forms.Select(attrs={"class": "form-select form-select-lg"}),
    )
    slot = forms.ChoiceField(
        label="预约检查时间",
        required=False,
        choices=[],
        error_messages={"invalid_choice": "这个时段已约满或已停止预约，请重新选择。"},
        widget=forms.RadioSelect,
    )
    field_map = {"place": "village"}

    def __init__(self, *args, town=None, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["woman_mobile"].required = True
        self.fields["woman_mobile"].help_text = "用于接收通知和查询预约。"
        villages = list(selectors.public_villages(town)) if town is not None else []
        self.fields["village"].choices = [("", "请选择"), *((v.code, v.name) for v in villages)]
        self._set_slots(slots, head=[("", "暂不预约，以后再约")])


class StaffRegistrationForm(CoupleForm):
    place = forms.ChoiceField(
        label="现居住村（社区）",
        choices=[],
        error_messages={"required": "请选择现居住的村（社区）。"},
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for p in places:
            town = p.parent.name if p.parent_id else ""
            groups.setdefault(town, []).append((p.code, p.name))
        choices: list = [("", "请选择")]
        choices += [(town, opts) for town, opts in groups.items()]
        self.fields["place"].choices = choices


class RegistrationFilterForm(forms.Form):
    q = forms.CharField(label="姓名、登记编号或身份证号", required=False, max_length=50)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *Registration.STATUS_CHOICES]
    )
    place = forms.CharField(label="区划编码", required=False, max_length=16)


class BookForm(_SlotChoices, forms.Form):
    slot = forms.ChoiceField(
        label="预约时段",
        choices=[],
        error_messages={
            "required": "请选择一个预约时段。",
            "invalid_choice": "这个时段已约满或已停止预约，请重新选择。",
        },
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_slots(slots)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=200,
        error_messages={"required": "请填写原因。"},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


class LookupForm(forms.Form):
    number = _text("登记编号", max_length=20, autocomplete="off", spellcheck="false")
    mobile = _mobile_field("女方手机号码", required=True)


class InstitutionForm(forms.Form):
    name = _text("机构名称", max_length=100)
    place = forms.ChoiceField(
        label="所在地",
        choices=[],
        error_messages={"required": "请选择机构所在地。"},
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    address = _text("地址", max_length=200)
    phone = _text("咨询电话", required=False, max_length=30)
    hours = _text("服务时间", required=False, max_length=200)
    instructions = forms.CharField(
        label="注意事项与携带物品",
        required=False,
        max_length=300,
        help_text="写进检查通知短信，如：请空腹，携带夫妇双方身份证。不填时用这句默认话。",
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 2}),
    )
    is_active = forms.BooleanField(
        label="启用",
        required=False,
        initial=True,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "请选择")] + [
            (p.code, f"{p.name}（{p.level_label}）") for p in places
        ]


WEEKDAY_CHOICES = [(str(i), f"周{services.WEEKDAYS[i]}") for i in range(7)]
TIME_RANGE = re.compile(r"([0-2]?\d)[:：]([0-5]\d)\s*[-–—~至到]\s*([0-2]?\d)[:：]([0-5]\d)")


class SlotOpenForm(forms.Form):
    start_date = forms.DateField(
        label="开始日期",
        error_messages={"required": "请填写开始日期。", "invalid": "开始日期格式不对。"},
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
    )
    end_date = forms.DateField(
        label="结束日期",
        error_messages={"required": "请填写结束日期。", "invalid": "结束日期格式不对。"},
        widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}, format="%Y-%m-%d"),
    )
    weekdays = forms.MultipleChoiceField(
        label="每周",
        choices=WEEKDAY_CHOICES,
        initial=["1", "3"],
        error_messages={"required": "请至少选择一个星期几。"},
        widget=forms.CheckboxSelectMultiple,
    )
    times = forms.CharField(
        label="时段",
        initial="08:00-10:00, 10:00-11:30",
        max_length=200,
        help_text="每个时段写成“08:00-10:00”，多个时段用逗号分开。",
        error_messages={"required": "请至少填写一个时段。"},
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    capacity = forms.IntegerField(
        label="每个时段可约对数",
        min_value=1,
        max_value=500,
        initial=10,
        error_messages={
            "required": "请填写可约对数。",
            "invalid": "可约对数应为整数。",
            "min_value": "可约对数至少为1。",
            "max_value": "可约对数最多500。",
        },
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )

    def clean_times(self):
        raw = self.cleaned_data["times"]
        out = []
        for part in re.split(r"[,，;；、\n]+", raw.strip()):
            if not part.strip():
                continue
            m = TIME_RANGE.fullmatch(part.strip())
            if not m:
                raise forms.ValidationError(f"“{part}”看不懂，请写成“08:00-10:00”。")
            a, b, c, d = (int(x) for x in m.groups())
            if a > 23 or c > 23:
                raise forms.ValidationError(f"“{part}”中的小时不对。")
            out.append((dt.time(a, b), dt.time(c, d)))
        if not out:
            raise forms.ValidationError("请至少填写一个时段。")
        return out

    def clean_weekdays(self):
        return [int(x) for x in self.cleaned_data["weekdays"]]

    def initial_dates(self):
        today = timezone.localdate()
        return today + dt.timedelta(days=1), today + dt.timedelta(days=28)
