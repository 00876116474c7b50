"""A counter per key in the cache, for public forms that must not be guessed at (a lookup by
number and mobile, a withdrawal by ID number and mobile): so many tries per window."""

from django.core.cache import cache


def exhausted(key: str, limit: int) -> bool:
    return (cache.get(key) or 0) >= limit


def count(key: str, window: int) -> None:
    """One more try under `key`, forgotten `window` seconds after the first."""
    if cache.add(key, 1, window) is False:
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)
