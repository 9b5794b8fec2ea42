"""In-app notifications, per-user channel preferences and their e-mails (``services``); the kinds (``kinds``).

Which event tells whom is a rule of the layer that owns the subject (``accounts.notifying``).
"""

from crmpm.notifications.kinds import KINDS, Channels, page_of, render
from crmpm.notifications.models import Notification, NotificationDigest, NotificationPreference
from crmpm.notifications.services import (
    get_or_raise, list_for, mark_all_read, mark_read, notify, preferences_of, rendered, send_email,
    set_preferences, text_of, unread_count, url_of,
)

__all__ = ["KINDS", "Channels", "Notification", "NotificationDigest", "NotificationPreference", "get_or_raise",
           "list_for", "mark_all_read", "mark_read", "notify", "page_of", "preferences_of", "render", "rendered",
           "send_email", "set_preferences", "text_of", "unread_count", "url_of"]
