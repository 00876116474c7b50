from django import forms

from sunshine.people import rules
from sunshine.people.models import STATUS_CHOICES


class ResidentFilterForm(forms.Form):
    q = forms.CharField(label="姓名、身份证号或手机号", required=False, max_length=50)
    place = forms.CharField(label="区划编码", required=False, max_length=16)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *STATUS_CHOICES]
    )


class ResidentForm(forms.Form):
    """Text fields only: validation is people.rules.clean_resident, shared with the import."""

    name = forms.CharField(label="姓名", max_length=50)
    sex = forms.ChoiceField(label="性别", choices=[("男", "男"), ("女", "女")])
    id_number = forms.CharField(label="身份证号码", max_length=18, min_length=15)
    birth_date = forms.CharField(
        label="出生日期", required=False, help_text="可不填，按身份证号码自动计算"
    )
    mobile = forms.CharField(label="手机号码", required=False, max_length=20)
    place_code = forms.CharField(label="所在地编码（村或组）", max_length=16)
    household_number = forms.CharField(label="户号", required=False, max_length=32)
    residence_code = forms.CharField(label="居住地编码", required=False, max_length=16)
    hukou_type = forms.ChoiceField(label="户籍类型", choices=[("农村", "农村"), ("城镇", "城镇")])
    status = forms.ChoiceField(
        label="状态", choices=[("在册", "在册"), ("迁出", "迁出"), ("死亡", "死亡")]
    )

    field_for_header = {header: name for name, header in rules.HEADERS.items()}


class ImportForm(forms.Form):
    file = forms.FileField(
        label="居民表格（.xlsx 或 .csv）",
        error_messages={"required": "请选择要上传的文件。", "empty": "上传的文件是空的。"},
    )
    partial = forms.BooleanField(
        label="只导入正确的行（错误行下载后改正再导入）",
        required=False,
        help_text="不勾选时：只要有一行错误，整个文件都不导入。",
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith((".xlsx", ".csv", ".xls")):
            raise forms.ValidationError("只能上传 .xlsx 或 .csv 文件。")
        if f.size > 200 * 1024 * 1024:
            raise forms.ValidationError("文件超过 200 MB，请拆分后上传。")
        return f
