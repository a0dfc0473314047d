"""Background jobs (RQ functions that take ids, reload rows and are idempotent)."""
