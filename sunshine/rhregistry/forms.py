"""Input forms of the registry: shapes and required fields only; the services validate."""

from django import forms

from sunshine.core import validators
from sunshine.messaging import verification
from sunshine.rhregistry import rules

REQUIRED = "请填写{}。"


def _style(form: forms.Form, *, size: str = "") -> None:
    """Bootstrap classes on every widget (templates render fields with `_field.html`)."""
    for field in form.fields.values():
        w = field.widget
        if isinstance(w, forms.RadioSelect | forms.CheckboxSelectMultiple | forms.CheckboxInput):
            w.attrs.setdefault("class", "form-check-input")
        elif isinstance(w, forms.Select):
            w.attrs.setdefault("class", f"form-select {size}".strip())
        else:
            w.attrs.setdefault("class", f"form-control {size}".strip())


def _text(label, max_length, **kw):
    return forms.CharField(
        label=label,
        max_length=max_length,
        error_messages={
            "required": REQUIRED.format(label),
            "max_length": f"{label}太长，请不超过{max_length}个字。",
        },
        **kw,
    )


class _Identifiers:
    """Format checks up front, so a form shows every mistake at once (the service checks too)."""

    def clean_id_number(self):
        return validators.validate_id_number(self.cleaned_data["id_number"])

    def clean_mobile(self):
        return validators.validate_mobile(self.cleaned_data["mobile"])


class DonorForm(_Identifiers, forms.Form):
    """The volunteer's own form (public) and the register-on-behalf form (staff). The consent
    box is never ticked in advance; the scopes neither."""

    name = _text("姓名", 50)
    id_number = _text("身份证号码", 20)
    mobile = _text("手机号码", 20)
    abo = forms.ChoiceField(
        label="ABO血型",
        choices=rules.ABO_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择ABO血型。", "invalid_choice": "请选择ABO血型。"},
    )
    rhd = forms.ChoiceField(
        label="RhD血型",
        choices=rules.DONOR_RHD_CHOICES,
        initial=rules.NEG,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择RhD血型。", "invalid_choice": "请选择RhD血型。"},
    )
    rh_note = _text("血型说明（选填）", 100, required=False)
    place = forms.ChoiceField(
        label="所在村（社区）",
        error_messages={
            "required": "请选择所在的村（社区）。",
            "invalid_choice": "请从列表中选择所在的村（社区）。",
        },
    )
    consent_scope = forms.MultipleChoiceField(
        label="我同意的用途",
        choices=rules.CONSENT_SCOPE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "请从列出的用途中选择。"},
    )
    consent = forms.BooleanField(label="我已阅读并同意上面的同意书", required=False)

    def __init__(self, *args, place_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "请选择"), *place_choices]
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["mobile"].widget.attrs.update(inputmode="tel", autocomplete="tel")
        _style(self)

    def clean(self):
        from sunshine.rhregistry import services

        data = super().clean()
        if not data.get("consent_scope") and "consent_scope" not in self.errors:
            self.add_error("consent_scope", services.SCOPE_REQUIRED)
        if not data.get("consent"):
            self.add_error("consent", services.CONSENT_REQUIRED)
        return data


class WithdrawForm(_Identifiers, verification.CodeForm):
    """Two steps: the ID number and mobile ask for an SMS code; the code withdraws."""

    id_number = _text("身份证号码", 20)
    mobile = _text("登记时的手机号码", 20)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mobile"].widget.attrs.update(inputmode="tel", autocomplete="tel")
        _style(self)
        self.order_fields(["id_number", "mobile", "code"])


class StaffWithdrawForm(forms.Form):
    reason = _text("撤回原因", 200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _style(self, size="form-control-sm")


class DonorFilterForm(forms.Form):
    abo = forms.ChoiceField(
        label="ABO血型", required=False, choices=[("", "全部"), *rules.ABO_CHOICES]
    )
    place = forms.ChoiceField(label="地方", required=False)

    def __init__(self, *args, place_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [("", "全部"), *place_choices]
        _style(self)


class SearchForm(forms.Form):
    patient_abo = forms.ChoiceField(
        label="患者ABO血型",
        choices=rules.ABO_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择患者的ABO血型。"},
    )
    patient_rhd = forms.ChoiceField(
        label="患者RhD血型",
        choices=rules.RHD_CHOICES,
        initial=rules.NEG,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择患者的RhD血型。"},
    )
    place = forms.ChoiceField(
        label="查找范围",
        error_messages={"required": "请选择查找范围。", "invalid_choice": "请选择查找范围。"},
    )
    near = forms.ChoiceField(label="患者或医院所在地（用于按远近排序，选填）", required=False)
    hospital = _text("用血医院", 60)
    contact_phone = _text("联系电话（写入短信）", 20)
    patient_ref = _text("患者床号或住院号（不写姓名）", 60)
    reason = _text("查询原因（选填）", 200, required=False)

    def __init__(self, *args, place_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = place_choices
        self.fields["near"].choices = [("", "同查找范围"), *place_choices]
        _style(self)
