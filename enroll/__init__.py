"""The automation that enrolls every account and region of an organization: `org` (settings,
discovery, the plan), `run` (the orchestrator, its ledger and report, the Automation API
runner), `offline` (render under mocks, the policy pack over the analyzer protocol), `demo`
(an emulated organization) and `util`. `cli` ties them together. docs/architecture.md has the
picture and the import rules."""
