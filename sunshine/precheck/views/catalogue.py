"""The check catalogue (检查项目) on a staff page: every manager reads it; a county writer
corrects names, units, reference ranges and what an abnormal result means."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from sunshine.accounts.access import staff_required
from sunshine.core.errors import ServiceError, form_add_error
from sunshine.precheck import catalogue, content, rules
from sunshine.precheck.models import CheckItem


class ItemForm(forms.Form):
    name = forms.CharField(label="项目名称", max_length=50)
    unit = forms.CharField(label="单位", max_length=20, required=False)
    ref_low = forms.DecimalField(label="参考下限", required=False, max_digits=10, decimal_places=3)
    ref_high = forms.DecimalField(label="参考上限", required=False, max_digits=10, decimal_places=3)
    abnormal_risk = forms.ChoiceField(label="异常时的风险等级", choices=CheckItem.RISK_CHOICES)
    description = forms.CharField(label="说明", max_length=200, required=False)
    is_active = forms.BooleanField(label="启用", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-check-input" if name == "is_active" else "form-control"
            if name == "abnormal_risk":
                css = "form-select"
            field.widget.attrs["class"] = css
            field.error_messages.setdefault("invalid", f"{field.label}应为数字。")
        self.fields["name"].error_messages["required"] = "请填写项目名称。"


def _with_ranges(items):
    """Each item with its range as the results grid shows it ("3.9–6.1 mmol/L", "≤40 U/L")."""
    items = list(items)
    for i in items:
        i.range = rules.range_label(i)
    return items


@staff_required("precheck.manage")
def catalogue_list(request):
    return render(
        request,
        "precheck/catalogue_list.html",
        {
            "items": _with_ranges(CheckItem.objects.order_by("number")),
            "can_edit": content.can_set_targets(request.user),
        },
    )


@staff_required("precheck.manage")
@require_http_methods(["GET", "POST"])
def catalogue_edit(request, checkitem_id):
    item = CheckItem.objects.filter(pk=checkitem_id).first()
    if item is None:
        raise Http404("没有这个检查项目。")
    can_edit = content.can_set_targets(request.user)
    fields = ["name", "unit", "ref_low", "ref_high", "abnormal_risk", "description", "is_active"]
    form = ItemForm(request.POST or None, initial={f: getattr(item, f) for f in fields})
    if request.method == "POST" and form.is_valid():
        try:
            catalogue.item_update(actor=request.user, item=item, **form.cleaned_data)
        except ServiceError as exc:
            form_add_error(form, exc)
        else:
            messages.success(request, f"已保存检查项目“{item.name}”。")
            return redirect("precheck_staff:catalogue")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "precheck/catalogue_form.html",
        {"item": _with_ranges([item])[0], "form": form, "can_edit": can_edit},
        status=status,
    )
