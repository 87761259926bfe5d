"""The checks, one module per category; each records verdicts in the session's ledger."""
