"""The rule modules of org-logging-guardrails, one per AWS service concern."""
