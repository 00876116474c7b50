class ServiceError(Exception):
    """A refused state change, with a Chinese message that says what is wrong and what to do."""

    def __init__(
        self, message: str, *, field: str | None = None, errors: list[tuple[str, str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ([(field, message)] if field else [])  # (field, reason) pairs


def form_add_error(form, exc: ServiceError, field_map: dict | None = None) -> None:
    """Show a refused service call on a form: each reason next to its field when the form has
    that field (`field_map` renames service fields to form fields), otherwise at the top."""
    for field, message in exc.errors or [(None, exc.message)]:
        field = (field_map or {}).get(field, field)
        form.add_error(field if field in form.fields else None, message)
