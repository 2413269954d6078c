"""`sovereign watch`: consumes the event logs (`memory.events`) exactly once, re-verifies
published reports against papers that arrive later, and keeps the public site current."""

from graph.watch.consumer import Watcher, WatchStatus
from graph.watch.shared import CONSUMER

__all__ = ["CONSUMER", "WatchStatus", "Watcher"]
