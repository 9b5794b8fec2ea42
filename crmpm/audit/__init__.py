"""The audit trail: who changed what, when, from what to what."""

from crmpm.audit.services import entity_type_of, list_, record, record_many

__all__ = ["entity_type_of", "list_", "record", "record_many"]
