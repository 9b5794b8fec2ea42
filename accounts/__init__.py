"""Client accounts: the CRM side of crmpm (not user logins)."""
