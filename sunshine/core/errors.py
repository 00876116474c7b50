class ServiceError(Exception):
    """A refused state change, with a Chinese message that says what is wrong and what to do."""

    def __init__(
        self, message: str, *, field: str | None = None, errors: list[tuple[str, str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ([(field, message)] if field else [])  # (field, reason) pairs
