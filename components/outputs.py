"""A component's outputs, declared once as a dataclass: registered on the component and
exported by the program with the same loop (snake_case field, camelCase export)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pulumi


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def as_dict(outputs: Any) -> dict[str, Any]:
    return {field.name: getattr(outputs, field.name) for field in dataclasses.fields(outputs)}


def export_all(outputs: Any) -> None:
    """Every output of a component as a stack output, camelCase."""
    for name, value in as_dict(outputs).items():
        pulumi.export(camel(name), value)
