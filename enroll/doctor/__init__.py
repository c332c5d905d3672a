"""`org-logging doctor`: the organization-wide prerequisites org-logging needs, checked before
anything deploys (and by `up` first), each with the command or setting that fixes it.

`model` holds a check's result and the report, `aws` the AWS calls the checks make (the seam
tests replace), `context` what the checks see, the `checks_*` modules the checks, `run` the
runner and `--fix`, `render` the table and the JSON.
"""
