"""Pulumi's stackConfigDir (the example Pulumi.<stack>.yaml files and org.yaml), and the
`python -m stacks` alias of the `org-logging` command."""
