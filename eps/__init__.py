"""The EPS: the enterprise tree of nodes and projects, with access grants and budgets propagated down it."""
