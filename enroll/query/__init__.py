"""`org-logging query`: the archive's named queries (or any Athena SQL) run locally with DuckDB
over a copy of the central bucket (README, "Querying the archive")."""
