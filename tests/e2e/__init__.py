"""End-to-end tests with the real Pulumi engine; `provider` is the stand-in `aws` plugin they use."""
