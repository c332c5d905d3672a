"""Build the one component of a stack's role and export its outputs."""

from __future__ import annotations

from components.log_archive import LogArchive, LogArchiveArgs
from components.management import OrgGuardrails, OrgGuardrailsArgs
from components.outputs import export_all
from components.settings import Settings
from components.source_account import SourceAccountArgs, SourceAccountLogging


def deploy(settings: Settings) -> None:
    if settings.role == "log-archive":
        component = LogArchive("log-archive", LogArchiveArgs.from_settings(settings))
    elif settings.role == "management":
        component = OrgGuardrails("management", OrgGuardrailsArgs.from_settings(settings))
    else:
        component = SourceAccountLogging(
            f"source-{settings.region}", SourceAccountArgs.from_settings(settings)
        )
    export_all(component.outputs)
