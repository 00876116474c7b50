"""Input validation for the staff pages of the publication pipeline. The services decide what
is allowed; these forms only turn what a clerk typed into clean values."""

import csv
import io

from django import forms

from sunshine.core.validators import validate_id_number
from sunshine.places import rules as place_rules
from sunshine.publishing import rules
from sunshine.publishing.models import STATUS_CHOICES, Category, Objection

MAX_COLUMNS = 20
MAX_ROWS = 2000
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
SPOKESPERSON_CATEGORY = "spokesperson"


def parse_table(text: str) -> dict:
    """A table pasted from Excel (tab-separated) or typed with commas; the first line holds
    the headers. Returns {"headers": [...], "rows": [[...], ...]}, or {} for no table."""
    lines = [line for line in (text or "").replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        return {}
    if any("\t" in line for line in lines):
        rows = [line.split("\t") for line in lines]
    else:
        if not any("," in line for line in lines):
            lines = [line.replace("，", ",") for line in lines]
        rows = list(csv.reader(io.StringIO("\n".join(lines))))
    rows = [[cell.strip() for cell in row] for row in rows]
    headers = rows[0]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise forms.ValidationError("表格的第一行应为表头。")
    if len(headers) > MAX_COLUMNS:
        raise forms.ValidationError(f"表格最多{MAX_COLUMNS}列，现在是{len(headers)}列。")
    if len(rows) < 2:
        raise forms.ValidationError("表格只有表头，请在表头下面粘贴数据行。")
    if len(rows) - 1 > MAX_ROWS:
        raise forms.ValidationError(f"表格最多{MAX_ROWS}行，请拆分后作为附件上传。")
    for number, row in enumerate(rows[1:], start=2):
        extra = [c for c in row[len(headers) :] if c]
        if extra:
            raise forms.ValidationError(
                f"表格第{number}行有{len(row)}列，比表头多；请检查是否多了分隔符。"
            )
    body = [(row + [""] * len(headers))[: len(headers)] for row in rows[1:]]
    return {"headers": headers, "rows": body}


def table_as_text(table: dict | None) -> str:
    """The stored table back as tab-separated text, for editing."""
    if not table or not table.get("headers"):
        return ""
    lines = ["\t".join(table["headers"])]
    lines += ["\t".join(str(c) for c in row) for row in table.get("rows", [])]
    return "\n".join(lines)


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input border-secondary")
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

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name not in self.fields:
                continue
            attrs, bound = self.fields[name].widget.attrs, self[name]
            if "is-invalid" not in attrs.get("class", ""):
                attrs["class"] = (attrs.get("class", "") + " is-invalid").strip()
            described = [f"{bound.auto_id}_error"]
            if self.fields[name].help_text:
                described.append(f"{bound.auto_id}_helptext")
            attrs["aria-describedby"] = " ".join(described)


def _datetime_field(label: str, help_text: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=DATETIME_FORMATS,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": "请按“年-月-日 时:分”填写，例如 2026-12-01 09:00。"},
    )


class ItemFilterForm(StaffForm):
    q = forms.CharField(label="标题", required=False, max_length=100)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *STATUS_CHOICES]
    )
    category = forms.ChoiceField(label="类别", required=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "全部")] + [(c.code, c.name) for c in categories]


class PlaceChoiceField(forms.ModelChoiceField):
    """Places by code, indented by level so a town's villages read as a tree."""

    INDENT = {"county": 0, "town": 1, "village": 2, "group": 3, "unit": 3, "residence": 3}

    def label_from_instance(self, place):
        pad = "\u3000" * self.INDENT.get(place.level, 0)
        return f"{pad}{place.display_name}（{place.kind_label}）"


class ItemForm(StaffForm):
    """A draft: on creation every field; on editing a draft the category, place, kind and
    spokesperson are fixed (shown, not posted)."""

    category = forms.ModelChoiceField(
        label="类别",
        queryset=Category.objects.none(),
        to_field_name="code",
        empty_label="请选择类别",
        error_messages={"required": "请选择类别。", "invalid_choice": "请从列表中选择类别。"},
    )
    place = PlaceChoiceField(
        label="发布地方",
        queryset=None,
        to_field_name="code",
        empty_label=None,
        help_text="事项在这个地方的公示栏发布；下面勾选的层级同步公开。",
        error_messages={
            "required": "请选择发布地方。",
            "invalid_choice": "只能在您管辖范围内的地方发布，请从列表中选择。",
        },
    )
    kind = forms.ChoiceField(
        label="类型",
        required=False,
        choices=[("", "按类别自动"), *rules.KIND_LABELS.items()],
        help_text="按类别：公示类别为公示，其余为公开；“发言人”只用于网络发言人类别。",
    )
    title = forms.CharField(
        label="标题", max_length=200, error_messages={"required": "请填写标题。"}
    )
    summary = forms.CharField(
        label="摘要",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="一两句话，显示在公示栏列表和海报上。",
    )
    body = forms.CharField(
        label="正文",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="纯文本，空一行分段；不支持网页格式。",
    )
    table = forms.CharField(
        label="表格",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "form-control font-monospace"}),
        help_text="从 Excel 选中后复制粘贴到这里；第一行为表头。也可手工录入，各列用逗号隔开。",
    )
    levels = forms.MultipleChoiceField(
        label="同步公开到以下层级",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="勾选后，发布地方以下这些层级的公示栏也显示本事项（六级同步公开）。",
    )
    publish_at = _datetime_field("计划发布时间", "不填：审核通过后立即发布。")
    expires_at = _datetime_field("下架时间", "不填：一直公开，直到撤回或归档。")
    spokesperson = forms.CharField(
        label="发言人",
        required=False,
        max_length=60,
        help_text="发言人声明必填，如：县卫生健康委员会新闻发言人 张三。",
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    FIXED_ON_EDIT = ("category", "place", "kind", "spokesperson")

    def __init__(self, *args, places, categories, item=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["place"].queryset = places
        self.fields["category"].queryset = categories
        if item is not None:
            # Fixed, but still validated: offer exactly the item's own (the place may lie below
            # the places a county user picks from, the category may since be switched off).
            self.fields["place"].queryset = places.model.objects.filter(pk=item.place_id)
            self.fields["category"].queryset = Category.objects.filter(pk=item.category_id)
            for name in self.FIXED_ON_EDIT:
                self.fields[name].disabled = True
                self.fields[name].required = False
        self.fields["levels"].choices = self._level_choices(places)

    def _place_level(self, places) -> str | None:
        if self.item is not None:
            return self.item.place.level
        code = self.data.get("place") if self.is_bound else None
        if not code:
            value = self.initial.get("place")
            code = getattr(value, "code", value)
        for place in places:
            if place.code == code:
                return place.level
        first = next(iter(places), None)
        return first.level if first is not None else None

    def _level_choices(self, places) -> list[tuple[str, str]]:
        level = self._place_level(places)
        return [(lv, place_rules.LEVEL_LABELS[lv]) for lv in rules.levels_below(level or "")]

    def clean(self):
        data = super().clean()
        publish_at, expires_at = data.get("publish_at"), data.get("expires_at")
        if publish_at and expires_at and expires_at <= publish_at:
            self.add_error("expires_at", "下架时间应晚于计划发布时间。")
        if self.item is None:
            category, kind = data.get("category"), data.get("kind")
            if category is not None:
                if kind == rules.KIND_STATEMENT and category.code != SPOKESPERSON_CATEGORY:
                    self.add_error("kind", "只有“网络发言人”类别可以发布发言人声明。")
                if kind == rules.KIND_NOTICE and not category.is_notice:
                    self.add_error(
                        "kind",
                        f"“{category.name}”类别没有公示期，不能作为公示发布；"
                        "请改选公示类别或选“公开”。",
                    )
                if not kind and category.code == SPOKESPERSON_CATEGORY:
                    data["kind"] = rules.KIND_STATEMENT
            if data.get("kind") == rules.KIND_STATEMENT and not data.get("spokesperson"):
                self.add_error("spokesperson", "发言人声明须写明发言人。")
        return data

    def clean_table(self):
        return parse_table(self.cleaned_data.get("table", ""))


class CorrectionForm(StaffForm):
    title = forms.CharField(
        label="标题", max_length=200, error_messages={"required": "请填写标题。"}
    )
    summary = forms.CharField(
        label="摘要", required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    body = forms.CharField(label="正文", required=False, widget=forms.Textarea(attrs={"rows": 10}))
    table = forms.CharField(
        label="表格",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "form-control font-monospace"}),
        help_text="第一行为表头，各列用 Tab（从 Excel 复制）或逗号分隔。",
    )
    change_note = forms.CharField(
        label="更正说明",
        max_length=300,
        help_text="公众会在版本记录中看到，如：更正第3行的金额。",
        error_messages={"required": "请写明更正说明，公众会在版本记录中看到。"},
    )

    def clean_table(self):
        return parse_table(self.cleaned_data.get("table", ""))


class NoteForm(StaffForm):
    """One short text for an action: the services say, in Chinese, when it is missing."""

    def __init__(self, *args, name: str, label: str, max_length: int = 300, rows=2, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[name] = forms.CharField(
            label=label,
            required=False,
            max_length=max_length,
            widget=forms.Textarea(attrs={"rows": rows, "class": "form-control"}),
        )
        self.name = name

    @property
    def value(self) -> str:
        return self.cleaned_data.get(self.name, "")


def return_form(data=None, **kw) -> NoteForm:
    return NoteForm(data, name="note", label="退回意见", prefix="return", **kw)


def withdraw_form(data=None, **kw) -> NoteForm:
    return NoteForm(data, name="reason", label="撤回原因", prefix="withdraw", **kw)


def finalise_form(data=None, **kw) -> NoteForm:
    return NoteForm(
        data, name="outcome", label="公示结果", max_length=2000, rows=3, prefix="finalise", **kw
    )


def answer_form(data=None, **kw) -> NoteForm:
    return NoteForm(data, name="answer", label="答复内容", max_length=2000, rows=5, **kw)


class EntryForm(StaffForm):
    """A person on a notice's list: by ID number from the residents register, or typed."""

    id_number = forms.CharField(
        label="身份证号码",
        required=False,
        max_length=18,
        help_text="已登记的居民只填身份证号码即可，姓名和村（居）自动带出。",
    )
    name = forms.CharField(label="姓名", required=False, max_length=50)
    place_name = forms.CharField(label="村（居）", required=False, max_length=100)
    matter = forms.CharField(label="事项", required=False, max_length=200)

    def clean_id_number(self):
        value = self.cleaned_data.get("id_number", "").strip().upper()
        return validate_id_number(value) if value else ""

    def clean(self):
        data = super().clean()
        if not data.get("id_number") and not data.get("name", "").strip():
            raise forms.ValidationError("请填写身份证号码，或至少填写姓名。")
        return data


class AttachmentForm(StaffForm):
    file = forms.FileField(
        label="附件文件",
        help_text="图片（PNG、JPEG、GIF）或 PDF，不超过 10 MB。",
        error_messages={"required": "请选择要上传的文件。", "empty": "上传的文件是空的。"},
    )
    title = forms.CharField(label="附件名称", required=False, max_length=120)


SIZE_CHOICES = [("A4", "A4（公示栏常用）"), ("A3", "A3（大幅）")]


class PosterForm(StaffForm):
    place = PlaceChoiceField(
        label="地方",
        queryset=None,
        to_field_name="code",
        empty_label=None,
        help_text="为这个地方及其下每个公示栏各生成一张海报，打包下载。",
        error_messages={"invalid_choice": "只能为您管辖范围内的地方生成海报。"},
    )
    size = forms.ChoiceField(label="纸张", choices=SIZE_CHOICES, initial="A4")

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class ObjectionFilterForm(StaffForm):
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部"), *Objection.STATUS_CHOICES]
    )


class CategoryForm(StaffForm):
    category = forms.IntegerField(widget=forms.HiddenInput, required=False)
    code = forms.SlugField(
        label="代码（新建时必填）",
        required=False,
        max_length=40,
        help_text="英文小写字母、数字和连字符，建好后不能改，如 reward-assistance。",
        error_messages={"invalid": "代码只能包含英文字母、数字、连字符和下划线。"},
    )
    name = forms.CharField(
        label="名称", max_length=60, error_messages={"required": "请填写类别名称。"}
    )
    description = forms.CharField(label="说明", required=False, max_length=200)
    notice_days = forms.IntegerField(
        label="公示天数",
        min_value=0,
        max_value=90,
        initial=0,
        help_text="0 为普通公开；大于 0 为公示，公示期内可以提出异议。",
        error_messages={
            "required": "请填写公示天数（普通公开填 0）。",
            "invalid": "公示天数应为整数。",
            "min_value": "公示天数不能小于 0。",
            "max_value": "公示天数不能超过 90 天。",
        },
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def clean(self):
        data = super().clean()
        if not data.get("category") and not data.get("code"):
            self.add_error("code", "新建类别请填写代码。")
        return data
