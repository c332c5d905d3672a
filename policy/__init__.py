"""The org-logging-guardrails CrossGuard pack (run by the engine from this directory)."""
