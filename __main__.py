"""org-logging: one role of the organization's logging, chosen by `org-logging:role`."""

import pulumi

from components.program import deploy
from components.settings import SettingsError, from_pulumi_config

try:
    settings = from_pulumi_config()
except SettingsError as error:
    # RunError prints the message alone: the problems are the user's whole clue, not a traceback.
    raise pulumi.RunError(str(error)) from None

deploy(settings)
