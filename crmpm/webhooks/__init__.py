"""Outbound webhooks: signed POSTs of domain events to the URLs users subscribe, retried, logged.

``models`` (subscriptions and the delivery log), ``signing`` (the signature headers), ``targets``
(which URLs may be reached: no private, loopback or link-local address unless allowed),
``sending`` (one HTTP attempt), ``services`` (subscriptions, attempts, retries, disabling).
Who receives which event is decided above the core (``accounts.webhooks``), by the owner's rights.
"""

from crmpm.webhooks.models import DELIVERY_STATUSES, Webhook, WebhookDelivery

__all__ = ["DELIVERY_STATUSES", "Webhook", "WebhookDelivery"]
