"""RDS: PostgreSQL logs errors tersely and never logs bind parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guardrails.values import as_list, config_of, declare_config, is_unknown, never_crash, unproxied
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

PARAMETER_GROUPS = (
    "aws:rds/parameterGroup:ParameterGroup",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
)
INSTANCE = "aws:rds/instance:Instance"
CLUSTER = "aws:rds/cluster:Cluster"
POSTGRES_ENGINES = ("postgres", "aurora-postgresql")
# Terse errors, and no bind parameters in logs (they carry the data):
# https://www.postgresql.org/docs/current/runtime-config-logging.html
REQUIRED_PARAMETERS = {
    "log_error_verbosity": "terse",
    "log_parameter_max_length": "0",
    "log_parameter_max_length_on_error": "0",
}
GROUP_PROPERTY = {INSTANCE: "parameterGroupName", CLUSTER: "dbClusterParameterGroupName"}
GROUP_TYPE = {INSTANCE: PARAMETER_GROUPS[0], CLUSTER: PARAMETER_GROUPS[1]}
TERSE = "rds-terse-logging"
TERSE_GROUPS = "rds-terse-logging-groups"


def is_postgres_family(family: Any) -> bool:
    return isinstance(family, str) and family.lower().startswith(POSTGRES_ENGINES)


def parameter_problems(parameters: Any) -> list[str] | None:
    """The required settings a group misses; None when its parameters are unknown."""
    if is_unknown(parameters):
        return None
    values: dict[str, Any] = {}
    for parameter in as_list(parameters):
        if isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str):
            values[parameter["name"].lower()] = parameter.get("value")
    problems = []
    for name, wanted in REQUIRED_PARAMETERS.items():
        value = values.get(name)
        if is_unknown(value):
            continue
        if value is None or str(value).strip().lower() != wanted:
            problems.append(f"{name}={wanted}" + (f" (is {value!r})" if value is not None else ""))
    return problems


def terse_fix(problems: list[str]) -> str:
    return "set " + ", ".join(problems) + " in its parameters"


@never_crash(TERSE)
def validate_rds(args: Any, report_violation: Any) -> None:
    kind = args.resource_type
    if kind not in PARAMETER_GROUPS and kind not in GROUP_PROPERTY:
        return
    config_of(args, TERSE)  # it has no properties: any given is a mistake
    props = unproxied(args.props)
    if kind in PARAMETER_GROUPS:
        if not is_postgres_family(props.get("family")):
            return
        problems = parameter_problems(props.get("parameters"))
        if problems:
            report_violation(
                f"PostgreSQL parameter group {args.name!r} must {terse_fix(problems)}."
            )
        return
    engine = props.get("engine")
    if is_unknown(engine) or not (isinstance(engine, str) and engine.lower() in POSTGRES_ENGINES):
        return
    group = props.get(GROUP_PROPERTY[kind])
    if is_unknown(group):
        return
    if not group or (isinstance(group, str) and group.startswith("default.")):
        report_violation(
            f"PostgreSQL {kind.split(':')[-1]} {args.name!r} uses the default parameter group, "
            f"which logs verbosely and can log bind parameters. Create an "
            f"aws.rds.{GROUP_TYPE[kind].split(':')[-1]} with "
            + ", ".join(f"{k}={v}" for k, v in REQUIRED_PARAMETERS.items())
            + f" and set {GROUP_PROPERTY[kind]} to it."
        )


rds_terse_logging = ResourceValidationPolicy(
    name=TERSE,
    description=(
        "PostgreSQL and Aurora PostgreSQL parameter groups set log_error_verbosity=terse and "
        "log no bind parameters; PostgreSQL instances and clusters use no default group."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_rds,
    config_schema=declare_config(TERSE),
)


@never_crash(TERSE_GROUPS)
def validate_rds_stack(args: Any, report_violation: Any) -> None:
    resources = list(args.resources)
    if not any(r.resource_type in GROUP_PROPERTY for r in resources):
        return
    config_of(args, TERSE_GROUPS)  # it has no properties: any given is a mistake
    groups = {
        name: r
        for r in resources
        if r.resource_type in PARAMETER_GROUPS
        and isinstance(name := unproxied(r.props).get("name"), str)
    }
    for database in resources:
        if database.resource_type not in GROUP_PROPERTY:
            continue
        props = unproxied(database.props)
        engine = props.get("engine")
        if not (isinstance(engine, str) and engine.lower() in POSTGRES_ENGINES):
            continue
        key = GROUP_PROPERTY[database.resource_type]
        linked = [
            dep
            for dep in database.property_dependencies.get(key, [])
            if dep.resource_type in PARAMETER_GROUPS
        ]
        named = props.get(key)
        group = linked[0] if linked else groups.get(named) if isinstance(named, str) else None
        if group is None:
            continue  # a group outside this stack: the resource policy checked its name
        group_props = unproxied(group.props)
        problems = []
        if group.resource_type != GROUP_TYPE[database.resource_type]:
            wanted = GROUP_TYPE[database.resource_type].split(":")[-1]
            problems.append(f"it is a {group.resource_type.split(':')[-1]}, not a {wanted}")
        if not is_unknown(group_props.get("family")) and not is_postgres_family(
            group_props.get("family")
        ):
            problems.append(f"its family {group_props.get('family')!r} is not PostgreSQL")
        missing = parameter_problems(group_props.get("parameters")) or []
        if missing:
            problems.append(terse_fix(missing))
        if problems:
            report_violation(
                f"PostgreSQL {database.resource_type.split(':')[-1]} {database.name!r} uses "
                f"parameter group {group.name!r}, but " + "; ".join(problems) + ".",
                database.urn,
            )


rds_terse_logging_groups = StackValidationPolicy(
    name=TERSE_GROUPS,
    description=(
        "Each PostgreSQL instance or cluster uses a parameter group of this stack that logs "
        "tersely (linked by dependency or by name)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_rds_stack,
    config_schema=declare_config(TERSE_GROUPS),
)
