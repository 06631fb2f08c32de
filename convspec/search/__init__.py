"""The search: the one engine that runs a claim, its example budgets and its example database."""
