"""CSV import, pure part: read a CSV export and map it into typed CRM records."""
