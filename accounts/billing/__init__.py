"""Invoices, payments and bank statements: what was billed and what was paid, per deal, project and EPS node."""
