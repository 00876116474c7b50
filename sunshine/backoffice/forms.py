from django import forms
from django.contrib.auth.forms import AuthenticationForm

from sunshine.places import rules


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。连续输错多次后账号会被暂时锁定。",
        "inactive": "这个账号已停用，请联系县级管理员。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"
        self.fields["username"].widget.attrs.update(
            {"class": "form-control form-control-lg", "autocomplete": "username"}
        )
        self.fields["password"].widget.attrs.update(
            {"class": "form-control form-control-lg", "autocomplete": "current-password"}
        )


class PlaceFilterForm(forms.Form):
    q = forms.CharField(label="名称或编码", required=False, max_length=50)
    level = forms.ChoiceField(
        label="层级", required=False, choices=[("", "全部层级"), *rules.LEVEL_LABELS.items()]
    )


class AuditFilterForm(forms.Form):
    q = forms.CharField(label="操作人、对象或地址", required=False, max_length=50)
    action = forms.CharField(label="动作", required=False, max_length=64)
    date_from = forms.DateField(
        label="起始日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "起始日期格式应为 2026-01-31。"},
    )
    date_to = forms.DateField(
        label="截止日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "截止日期格式应为 2026-01-31。"},
    )
    sensitive = forms.BooleanField(label="只看敏感信息查阅", required=False)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="表格文件（.xlsx 或 .csv）",
        error_messages={"required": "请选择要上传的文件。", "empty": "上传的文件是空的。"},
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        name = f.name.lower()
        if not name.endswith((".xlsx", ".csv", ".xls")):
            raise forms.ValidationError("只能上传 .xlsx 或 .csv 文件。")
        if f.size > 200 * 1024 * 1024:
            raise forms.ValidationError("文件超过 200 MB，请拆分后上传。")
        return f
