"""tasks pages of the CRM (routes on ``web.views.crm.bp``)."""

from __future__ import annotations
