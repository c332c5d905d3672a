"""YAML for files people write by hand (the settings file): a duplicated key, an alias, a key
that is not a string or absurd nesting is an error naming the line, never a silent surprise
(a second `exclude:` used to win and enroll the excluded accounts) or a crash.

libyaml (PyYAML's C loader) parses and composes the node tree, which keeps a settings file with
100,000 excluded ids under a second; the checks walk that tree once before anything is built
from it. libyaml refuses nesting past 1,000 levels on its own; the walk refuses past 64.
"""

from __future__ import annotations

import gc
from typing import Any

import yaml

MAX_DEPTH = 64
_STR = "tag:yaml.org,2002:str"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # a SafeLoader: no arbitrary objects


class YamlProblem(ValueError):
    """What is wrong, with the line (1-based) where it is."""


def load(text: str) -> Any:
    """The document in `text`; YamlProblem for what a hand-written file must not hold, and
    for invalid YAML."""
    loader = _Loader(text)
    collecting = gc.isenabled()
    gc.disable()  # a tree of 100,000 nodes holds no cycles: full collections only cost time
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check(loader, node)
        return loader.construct_document(node)
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as error:
        if "maximum nesting depth" in str(error.problem):  # libyaml's own limit (1,000)
            line = error.problem_mark.line + 1 if error.problem_mark else 1
            raise YamlProblem(f"line {line}: nested more than {MAX_DEPTH} levels deep") from None
        raise YamlProblem(f"not valid YAML: {error}") from None
    except yaml.YAMLError as error:
        raise YamlProblem(f"not valid YAML: {error}") from None
    except RecursionError:  # the pure-Python loader, where libyaml is missing
        raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()
        if collecting:
            gc.enable()


def _check(loader: Any, root: yaml.Node) -> None:
    """One pass over the tree, iteratively (no recursion to exhaust): every node once (a node
    met twice is an alias), depth, mapping keys."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int, yaml.Node]] = [(root, 1, root)]
    while stack:
        node, depth, parent = stack.pop()
        if id(node) in seen:  # an alias is the anchored node itself, met again
            raise YamlProblem(
                f"line {parent.start_mark.line + 1}: an alias (a reuse of the value on line "
                f"{node.start_mark.line + 1}) is not allowed here; write the value out"
            )
        seen.add(id(node))
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"line {node.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep"
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1, node) for item in reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            _check_keys(loader, node)
            for key, value in reversed(node.value):
                stack.append((value, depth + 1, key))
                stack.append((key, depth + 1, node))


def _check_keys(loader: Any, node: yaml.MappingNode) -> None:
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
            if isinstance(key_node, yaml.ScalarNode):
                shown = repr(loader.construct_object(key_node, deep=True))
            else:
                shown = "a list" if isinstance(key_node, yaml.SequenceNode) else "a map"
            raise YamlProblem(f"line {line}: the key {shown} must be a string")
        if key_node.value in lines:
            raise YamlProblem(
                f"line {line}: {key_node.value!r} is given twice (first on line "
                f"{lines[key_node.value]}); YAML would silently keep the last one"
            )
        lines[key_node.value] = line
