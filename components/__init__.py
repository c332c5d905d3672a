"""org-logging's Pulumi program: settings, naming, policy documents and one component per role."""
