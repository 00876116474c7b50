"""Text that people type or paste, made safe to store and show; sizes said in Chinese-friendly units."""


def size_text(n: int) -> str:
    """A byte count as "12 MB" or "300 KB", for messages."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.0f} MB"
    return f"{max(1, n // 1024)} KB"
