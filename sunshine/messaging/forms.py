"""Input validation of the SMS desk's forms; every write is a service."""

import re

from django import forms

from sunshine.core.validators import validate_mobile
from sunshine.messaging import rules
from sunshine.messaging.models import CATEGORY_CHOICES, STATUS_CHOICES, CallTask

DATE_ERRORS = {"invalid": "请按“年-月-日”填写日期，例如 2026-05-20。"}


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        elif not isinstance(widget, forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control")


class StaffForm(forms.Form):
    """Bootstrap classes on every widget; a field with an error is marked invalid and points
    at its message, for screen readers too."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                self._mark_invalid(name)

    def add_error(self, field, error):
        super().add_error(field, error)
        if field in self.fields:
            self._mark_invalid(field)

    def _mark_invalid(self, name: str) -> None:
        attrs = self.fields[name].widget.attrs
        if "is-invalid" not in attrs.get("class", ""):
            attrs["class"] = (attrs.get("class", "") + " is-invalid").strip()
        described = [f"{self[name].auto_id}_error"]
        if self.fields[name].help_text:
            described.append(f"{self[name].auto_id}_helptext")
        attrs["aria-describedby"] = " ".join(described)


class OutboxFilterForm(StaffForm):
    mobile = forms.CharField(
        label="手机号码",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"placeholder": "后4位或完整号码", "inputmode": "numeric", "autocomplete": "off"}
        ),
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *STATUS_CHOICES]
    )
    programme = forms.ChoiceField(label="项目", required=False)
    date_from = forms.DateField(
        label="创建日期从",
        required=False,
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label="到",
        required=False,
        error_messages=DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, programmes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [("", "全部"), *programmes]

    def clean_mobile(self):
        from sunshine.messaging.selectors import mobile_filter

        value = self.cleaned_data["mobile"].strip()
        if value and mobile_filter(value) is None:
            raise forms.ValidationError(
                "请输入完整的11位手机号码、后4位数字，或 138****1234 这样的号码。"
            )
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


class RevealForm(StaffForm):
    reason = forms.CharField(label="查看原因（选填）", required=False, max_length=200)


OUTCOME_SUGGESTIONS = [
    "已电话告知本人",
    "已告知家属",
    "号码错误，已更正",
    "多次无人接听",
    "本人已迁出",
]


class CallCloseForm(StaffForm):
    outcome = forms.CharField(
        label="处理结果",
        max_length=200,
        help_text="如：已电话告知本人，周五上午到卫生院检查。",
        error_messages={"required": "请填写处理结果。"},
        widget=forms.TextInput(attrs={"list": "outcome-suggestions", "autocomplete": "off"}),
    )


class ReplyHandleForm(StaffForm):
    note = forms.CharField(
        label="处理说明",
        max_length=200,
        help_text="如：已电话回复，预约周五检查。",
        error_messages={"required": "请写明处理情况。"},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CallFilterForm(StaffForm):
    status = forms.ChoiceField(
        label="状态",
        required=False,
        choices=[(CallTask.OPEN, "待处理"), (CallTask.DONE, "已完成")],
    )


class TemplateForm(StaffForm):
    code = forms.SlugField(
        label="代码",
        max_length=60,
        help_text="字母、数字、短横线，如 precheck-remind；保存后不能修改。",
        error_messages={"invalid": "代码只能用字母、数字、短横线和下划线。"},
    )
    name = forms.CharField(label="名称", max_length=100)
    body = forms.CharField(
        label="内容",
        max_length=rules.MAX_LENGTH,
        help_text="参数写在大括号里，如 {name}您好，请于{date}到卫生院检查。签名会自动加上。",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    category = forms.ChoiceField(label="类别", choices=CATEGORY_CHOICES)
    provider_code = forms.CharField(
        label="服务商模板代码",
        required=False,
        max_length=40,
        help_text="阿里云短信的 TemplateCode（模板须先经审核）；用模拟网关时可不填。",
    )


class TestSendForm(StaffForm):
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    mobile = forms.CharField(
        label="手机号码",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": "请填写接收短信的手机号码。"},
    )
    template = forms.ChoiceField(label="模板", required=False)
    params = forms.CharField(
        label="模板参数",
        required=False,
        max_length=1000,
        help_text="每行一个，如 name=张三",
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control font-monospace"}),
    )
    body = forms.CharField(
        label="短信内容",
        required=False,
        max_length=rules.MAX_LENGTH,
        help_text="不用模板时填写；签名会自动加上。",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.templates = {t.code: t for t in templates}
        self.fields["template"].choices = [("", "不用模板")] + [
            (t.code, f"{t.name}（{t.code}）") for t in templates
        ]

    def clean_mobile(self):
        return validate_mobile(self.cleaned_data["mobile"])

    def clean_template(self):
        code = self.cleaned_data["template"]
        return self.templates.get(code) if code else None

    def clean_params(self):
        params = {}
        for n, line in enumerate(self.cleaned_data["params"].splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or not re.fullmatch(r"\w+", key):
                raise forms.ValidationError(f"第{n}行应写成“参数名=值”，如 name=张三。")
            params[key] = value.strip()
        return params

    def clean(self):
        data = super().clean()
        template, body = data.get("template"), (data.get("body") or "").strip()
        if template is None and not body and "template" not in self.errors:
            self.add_error("body", "请填写短信内容，或选择一个模板。")
        if template is not None and body:
            self.add_error("body", "选了模板就不用再填内容；要发自拟内容请把模板选为“不用模板”。")
        return data
