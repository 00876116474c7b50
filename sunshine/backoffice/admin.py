from django.contrib import admin

from sunshine.core.models import AuditEntry
from sunshine.places.admin import ScopedModelAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedModelAdmin):
    list_display = ["at", "actor_label", "action", "object_repr", "ip", "sensitive"]
    list_filter = ["sensitive", "action"]
    search_fields = ["actor_label", "object_repr", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
