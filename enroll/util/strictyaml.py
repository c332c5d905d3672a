"""YAML for files people write by hand (the settings file): a duplicated key, an alias, a key
that is not a string or absurd nesting is an error naming the line, never a silent surprise
(a second `exclude:` used to win and enroll the excluded accounts) or a crash."""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 64


class YamlProblem(ValueError):
    """What is wrong, with the line (1-based) where it is."""


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlProblem(
                f"line {event.start_mark.line + 1}: aliases (*{event.anchor}) are not allowed "
                "here; write the value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise YamlProblem(f"line {mark.line + 1}: nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                raise YamlProblem(f"line {line}: the key {key!r} must be a string")
            if key in seen:
                raise YamlProblem(
                    f"line {line}: {key!r} is given twice (first on line {seen[key]}); "
                    "YAML would silently keep the last one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> Any:
    """The document in `text`; YamlProblem for what a hand-written file must not hold, and
    for invalid YAML."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader: no arbitrary objects
    except YamlProblem:
        raise
    except yaml.YAMLError as error:
        raise YamlProblem(f"not valid YAML: {error}") from None
