"""A counter per key in the cache, for public forms that must not be guessed at (a lookup by
number and mobile, a withdrawal by ID number and mobile): so many tries per window. The public
forms' limits (sunshine.core.publicforms) count with `hit` and `seen`."""

import math
import time

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


def hit(key: str, window: int, *, now: float | None = None) -> tuple[int, int]:
    """One more under `key` in the current window of `window` seconds (fixed windows: the hour
    from 10:00 to 11:00, not the last 60 minutes). Returns how many there have been in this
    window, this one included, and the seconds until it ends. Atomic (cache.add, then incr):
    a burst of parallel requests cannot all read the same count."""
    now = time.time() if now is None else now
    bucket = int(now // window)
    bucket_key = f"{key}:{bucket}"
    left = max(1, math.ceil((bucket + 1) * window - now))
    if cache.add(bucket_key, 1, window + 1):
        return 1, left
    try:
        return cache.incr(bucket_key), left
    except ValueError:  # expired between add and incr
        cache.set(bucket_key, 1, window + 1)
        return 1, left


def seen(key: str, window: int, *, now: float | None = None) -> int:
    """How many `hit`s `key` had in the current window."""
    now = time.time() if now is None else now
    return cache.get(f"{key}:{int(now // window)}") or 0
