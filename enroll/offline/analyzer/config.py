"""Policy-pack configuration as the engine reconciles it (ReconcilePolicyPackConfig), and the
pack's project file read the way the engine reads it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from enroll.offline.analyzer.wire import AnalyzerError, AnalyzerInfo, PolicyConfig

# --------------------------------------------------------------------------------------------
# Config reconciliation (the engine's ReconcilePolicyPackConfig)
# --------------------------------------------------------------------------------------------


def reconcile_config(
    info: AnalyzerInfo, config: Mapping[str, PolicyConfig]
) -> dict[str, PolicyConfig]:
    """One entry per policy: its level and schema defaults, then initialConfig, then `config`.

    The Configure RPC replaces the pack's whole config and a missing level reads as ADVISORY (the
    proto default), so every policy must be sent with its level or a mandatory policy is
    silently downgraded. `"all"` sets every policy's level. A policy name the pack does not have
    is a typo that would silently apply nothing, so it raises, as does config the policy's
    schema rejects (the engine validates too).
    """
    known = {policy.name for policy in info.policies}
    unknown = sorted(set(config) - known - {"all"})
    if unknown:
        raise ValueError(
            f"policy config names {unknown}, which pack {info.name!r} does not have; "
            f"its policies: {sorted(known)}"
        )
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        defaults = {
            key: schema["default"]
            for key, schema in policy.config_schema.items()
            if isinstance(schema, Mapping) and "default" in schema
        }
        result[policy.name] = PolicyConfig(policy.enforcement_level, defaults)
    for layer in (info.initial_config, config):
        every = layer.get("all")
        if every is not None and every.enforcement_level is not None:
            level = every.enforcement_level
            result = {name: PolicyConfig(level, cfg.properties) for name, cfg in result.items()}
        for name, given in layer.items():
            if name not in result:
                continue
            base = result[name]
            result[name] = PolicyConfig(
                given.enforcement_level or base.enforcement_level,
                {**base.properties, **given.properties},
            )
    problems = _schema_problems(info, result)
    if problems:
        raise ValueError("invalid policy config:\n  " + "\n  ".join(problems))
    return result


def _schema_problems(info: AnalyzerInfo, config: Mapping[str, PolicyConfig]) -> list[str]:
    problems: list[str] = []
    for policy in info.policies:
        props = dict(config[policy.name].properties)
        schema: dict[str, Any] = {"type": "object", "properties": dict(policy.config_schema)}
        if policy.required_config:
            schema["required"] = list(policy.required_config)
        validator = jsonschema.Draft7Validator(schema)
        problems += [f"{policy.name}: {error.message}" for error in validator.iter_errors(props)]
    return problems


def load_pack_project(pack_dir: Path) -> dict[str, Any]:
    """Fail before launching, with the engine's reasons, rather than on an obscure startup."""
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        project = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise AnalyzerError(f"no policy pack at {pack_dir}: PulumiPolicy.yaml is missing") from None
    except yaml.YAMLError as error:
        raise AnalyzerError(f"{path} is not valid YAML: {error}") from None
    runtime = project.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, Mapping) else runtime
    if runtime_name != "python":
        raise AnalyzerError(f"{path}: runtime is {runtime_name!r}; only python packs can run here")
    return project


def policy_pack_config_json(config: Mapping[str, PolicyConfig]) -> dict[str, Any]:
    """The same config as the CLI's `--policy-pack-config` file reads it: each policy's
    properties, with `enforcementLevel` where one is set."""
    document: dict[str, Any] = {}
    for name, policy in config.items():
        entry = dict(policy.properties)
        if policy.enforcement_level is not None:
            entry["enforcementLevel"] = policy.enforcement_level
        document[name] = entry
    return document
