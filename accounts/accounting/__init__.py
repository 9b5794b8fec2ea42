"""The exchange with accounting (1C): counterparties, invoices and acts out; actual costs per project in."""
