"""Log a recurring problem once per key and window instead of once per message."""

from __future__ import annotations

import logging
from collections import OrderedDict


class LogOnce:
    """Remembers recently logged keys (bounded, LRU) so a flood produces one line each."""

    def __init__(self, logger: logging.Logger, window_s: float = 600.0, size: int = 10_000):
        self._logger = logger
        self._window = window_s
        self._size = size
        self._last: OrderedDict[object, float] = OrderedDict()

    def warning(self, key: object, now: float, msg: str, *args: object) -> bool:
        """Log ``msg`` unless ``key`` was logged within the window; say whether it did."""
        last = self._last.get(key)
        if last is not None and now - last < self._window:
            return False
        self._last[key] = now
        self._last.move_to_end(key)
        while len(self._last) > self._size:
            self._last.popitem(last=False)
        self._logger.warning(msg, *args)
        return True
