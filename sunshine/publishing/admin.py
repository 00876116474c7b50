"""Nothing of the publication pipeline is in the Django admin.

Items, versions, lists and objections are place-scoped and change only through the services
(audited, four-eyes review); the admin would bypass both. Categories are not place-scoped and
are edited on the staff page “公开类别” (publishing:staff-category-list, capability
publishing.review) through services.category_update / category_create, which audit each
change. Keeping them out of the admin also keeps tests/test_scope_matrix.py's admin walk
meaningful: every model registered there must prove its scoping.
"""
