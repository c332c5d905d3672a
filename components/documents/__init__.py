"""Every policy document org-logging emits, as pure functions, one module per concern:
`grammar` (allow/deny, trust), `buckets`, `key`, `delivery`, `alerts`, `scp`."""
