from django.contrib import admin
from django.http import Http404

from sunshine.core import audit
from sunshine.places import scoping
from sunshine.places.models import Contact, Place


class ScopedModelAdmin(admin.ModelAdmin):
    """The admin, scoped like every other staff page: rows outside the user's place do not
    exist for them (404), nothing is hard-deleted, and every save is audited."""

    def get_queryset(self, request):
        return scoping.scope(super().get_queryset(request), request.user)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("没有找到，或不在您的管辖范围内。")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.can("admin.use")

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Place:
            kwargs["queryset"] = scoping.scope(Place.objects.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'update' if change else 'create'}_admin",
            obj=obj,
            changes={
                name: str(form.cleaned_data.get(name))
                for name in form.changed_data
                if "password" not in name
            },
        )


@admin.register(Place)
class PlaceAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "level", "urban_rural_code", "code_year", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "path", "level", "parent"]
    list_select_related = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ["path", "level", "parent"]

    def save_model(self, request, obj, form, change):
        from sunshine.places import rules

        if not change:
            obj.level = rules.level_of_code(obj.code)
            obj.path = rules.path_of_code(obj.code)
            pcode = rules.parent_code(obj.code)
            obj.parent = Place.objects.filter(code=pcode).first() if pcode else None
            if obj.parent is None or not scoping.path_in_scope(
                request.user, obj.parent.path, write=True
            ):
                raise Http404("上级不在您的管辖范围内。")
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(ScopedModelAdmin):
    list_display = ["place", "kind", "department", "phone", "hours"]
    list_filter = ["kind"]
    search_fields = ["department", "phone", "place__name"]
    list_select_related = ["place"]
    raw_id_fields = ["place"]
