"""Notifications: deliver the outbox the clock engine writes, over Slack, DingTalk, WeCom, e-mail,
a signed webhook and the console — exactly once where the channel allows it, never silently lost.

Entry points: `run_notifier` (the loop), `build_channels` + `create_notifier` (for tools and
tests), `interactivity_handler` in `notifications.slack` (Slack buttons), `AckRequest`/`Acknowledger`
(how acknowledgements leave this package). See docs/notifications.md.
"""

from monitor.notifications.ack import Acknowledger, AckRequest, record_ack_event
from monitor.notifications.outbox import Notifier, PassReport
from monitor.notifications.service import build_channels, create_notifier, run_notifier, start_notifier, stop_notifier

__all__ = [
    "AckRequest",
    "Acknowledger",
    "Notifier",
    "PassReport",
    "build_channels",
    "create_notifier",
    "record_ack_event",
    "run_notifier",
    "start_notifier",
    "stop_notifier",
]
