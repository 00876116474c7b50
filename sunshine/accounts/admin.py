from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from sunshine.accounts.models import User
from sunshine.places.admin import ScopedModelAdmin


@admin.register(User)
class StaffAdmin(ScopedModelAdmin, UserAdmin):
    list_display = ["username", "full_name", "role", "place", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name", "mobile"]
    list_select_related = ["place"]
    raw_id_fields = ["place", "view_place"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("基本信息", {"fields": ["full_name", "title", "mobile", "email"]}),
        ("角色与范围", {"fields": ["role", "place", "view_place", "is_active"]}),
        ("时间", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "password1", "password2", "full_name", "role", "place"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]


# Roles are Sunshine's own (accounts.roles); Django's groups would be a second, unscoped way in.
admin.site.unregister(Group)

# django-otp's own admin pages list every authenticator key of every county, unscoped: the
# county admin resets a member's two-factor log-in on the staff page instead (audited).
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
