"""Stack configs, the offline render and the automation that enrolls the organization."""
