"""Project expenses by cost account: actual costs that come from accounting, not from activities (P6's PROJCOST)."""
