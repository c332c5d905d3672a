"""Preview one stack without a cloud or a CLI: render it under mocks, then run the policy pack.

The pack sees what `pulumi preview --policy-pack` would show it: every registration's inputs in
the wire format (unknowns of new resources, secrets as sig objects), the default `aws` provider
the engine registers, and, for the stack policies, every resource with its parent,
dependencies and property dependencies. The pack is started once by the caller
(`AnalyzerClient`) and reused for every stack.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from components.contract import (
    AWS_PROVIDER_VERSION,
    PROJECT,
    ROLE_ACCOUNT_KEY,
    config_key,
    config_string,
)
from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import (
    AnalyzerError,
    AnalyzeResult,
    ProviderResource,
    Resource,
    ResourceOptions,
    StackInfo,
    encode_resources,
)
from enroll.offline.render import STACK_TYPE, Registration, Rendered, RenderError, render
from enroll.org.model import OrgFacts, StackResult, Status, Violation

AWS_PROVIDER_TYPE = "pulumi:providers:aws"
DEFAULT_AWS_PROVIDER = f"default_{AWS_PROVIDER_VERSION.replace('.', '_')}"

# --------------------------------------------------------------------------------------------
# Registrations as the engine hands them to the pack
# --------------------------------------------------------------------------------------------


def _setting(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    return "" if value is None else config_string(value)


def stack_region(config: Mapping[str, Any]) -> str:
    return _setting(config, "aws:region") or _setting(config, config_key("homeRegion"))


def default_aws_provider(stack: str, config: Mapping[str, Any]) -> ProviderResource:
    """The provider the engine registers for `aws` resources that name none.

    Its inputs are the stack's `aws:*` config, as strings (a list such as allowedAccountIds
    arrives JSON-encoded, as the engine sends it), plus the plugin version.
    """
    properties = {
        key.split(":", 1)[1]: config_string(value)
        for key, value in config.items()
        if key.startswith("aws:") and value is not None
    }
    region = stack_region(config)
    if region:
        properties["region"] = region
    properties["version"] = AWS_PROVIDER_VERSION
    return ProviderResource(
        type=AWS_PROVIDER_TYPE,
        urn=f"urn:pulumi:{stack}::{PROJECT}::{AWS_PROVIDER_TYPE}::{DEFAULT_AWS_PROVIDER}",
        name=DEFAULT_AWS_PROVIDER,
        properties=properties,
    )


def _explicit_provider(reference: str, by_urn: Mapping[str, Registration]) -> ProviderResource:
    urn = reference.rsplit("::", 1)[0]  # a provider reference is "<urn>::<id>"
    registration = by_urn.get(urn)
    if registration is None:
        qualified_type = urn.split("::")[2]
        return ProviderResource(qualified_type.split("$")[-1], urn, urn.rsplit("::", 1)[1])
    return ProviderResource(
        registration.type, registration.urn, registration.name, registration.wire_inputs
    )


def _resource(registration: Registration, provider: ProviderResource | None) -> Resource:
    return Resource(
        type=registration.type,
        urn=registration.urn,
        name=registration.name,
        properties=registration.wire_inputs,
        parent=registration.parent,
        dependencies=tuple(registration.dependencies),
        property_dependencies=registration.property_dependencies,
        options=ResourceOptions(),
        provider=provider,
    )


def registrations_to_resources(rendered: Rendered, config: Mapping[str, Any]) -> list[Resource]:
    """Every registration as an analyzer resource, with the default aws provider added.

    The default provider joins the list just before its first user, where the engine registers
    it, and is attached to every custom `aws:*` resource that names no provider of its own.
    """
    by_urn = {registration.urn: registration for registration in rendered.resources}
    default = default_aws_provider(rendered.stack, config)
    resources: list[Resource] = []
    default_added = False
    for registration in rendered.resources:
        provider: ProviderResource | None = None
        if registration.provider:
            provider = _explicit_provider(registration.provider, by_urn)
        elif registration.custom and registration.type.startswith("aws:"):
            provider = default
            if not default_added:
                resources.append(
                    Resource(default.type, default.urn, default.name, default.properties)
                )
                default_added = True
        resources.append(_resource(registration, provider))
    return resources


# --------------------------------------------------------------------------------------------
# One stack's preview
# --------------------------------------------------------------------------------------------


def _identity(config: Mapping[str, Any]) -> tuple[str, str, str]:
    role = _setting(config, config_key("role"))
    account_key = ROLE_ACCOUNT_KEY.get(role, "accountId")
    return role, _setting(config, config_key(account_key)), stack_region(config)


def _counted(registrations: Sequence[Registration]) -> int:
    return sum(1 for registration in registrations if registration.type != STACK_TYPE)


def stack_info(name: str, config: Mapping[str, Any]) -> StackInfo:
    return StackInfo(
        stack=name,
        project=PROJECT,
        dry_run=True,
        config={key: config_string(value) for key, value in config.items() if value is not None},
    )


def _violations(results: Sequence[tuple[str, AnalyzeResult]], stack_urn: str) -> list[Violation]:
    """`results` pairs each result with the URN a diagnostic without one belongs to."""
    return [
        Violation(
            policy=diagnostic.policy_name,
            level=diagnostic.enforcement_level,
            message=diagnostic.detail,
            resource=diagnostic.urn or owner or stack_urn,
        )
        for owner, result in results
        for diagnostic in result.diagnostics
    ]


def _judge(
    client: AnalyzerClient, name: str, config: Mapping[str, Any], resources: list[Resource]
) -> list[Violation]:
    """The engine's requests for one stack: ConfigureStack, Analyze per resource, AnalyzeStack.

    Each resource is encoded once for both (and the default provider once for all of them).
    """
    stack_urn = next((r.urn for r in resources if r.type == STACK_TYPE), "")
    client.configure_stack(stack_info(name, config))
    encoded = encode_resources(resources)
    # The engine attributes a resource policy's diagnostic to the resource it analyzed.
    per_resource = list(
        zip(
            (resource.urn for resource in resources),
            client.analyze_many(encoded),
            strict=True,
        )
    )
    whole_stack = client.analyze_stack(encoded)
    return _violations([*per_resource, ("", whole_stack)], stack_urn)


def _listed(violations: Sequence[Violation] | str) -> str:
    if isinstance(violations, str):
        return f"  (the pack failed) {violations}"
    lines = [f"  {v.level} {v.policy} {v.resource}: {v.message}" for v in violations]
    return "\n".join(lines) or "  (no diagnostics)"


def _judged_by(
    client: AnalyzerClient, name: str, config: Mapping[str, Any], resources: list[Resource]
) -> list[Violation] | str:
    try:
        return _judge(client, name, config, resources)
    except AnalyzerError as error:
        return str(error)


def disagreement(mine: list[Violation] | str, pack: list[Violation] | str) -> str | None:
    """Why the two judges disagree, with both diagnostics sets; None if they agree.

    Two failures agree whatever their messages: the transports word them differently.
    """
    if isinstance(mine, str) and isinstance(pack, str):
        return None
    both_judged = not isinstance(mine, str) and not isinstance(pack, str)
    if both_judged and sorted(map(repr, mine)) == sorted(map(repr, pack)):
        return None
    return (
        "JUDGES DISAGREE: the in-process pack and the pack process gave different diagnostics\n"
        f"in process:\n{_listed(mine)}\npack process:\n{_listed(pack)}"
    )


def preview_stack(
    name: str,
    config: Mapping[str, Any],
    client: AnalyzerClient,
    *,
    org: OrgFacts | None = None,
    cross_check: AnalyzerClient | None = None,
    cpu: dict[str, float] | None = None,
) -> StackResult:
    """Render `name` as a preview and run the pack over it; failures become an "error" report.

    A bad config or a failing program (RenderError) and a pack that fails (AnalyzerError) are
    this stack's result, not the run's: the caller goes on with the next stack. With
    `cross_check`, the stack is judged by it too, and a disagreement is an error naming both.
    `cpu` gets this process's CPU seconds spent rendering, judging and cross-checking.
    """
    spent = cpu if cpu is not None else {}
    clock = time.process_time()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.process_time()
        spent[phase] = spent.get(phase, 0.0) + now - clock
        clock = now

    role, account_id, region = _identity(config)

    def report(status: Status, resources: int, **extra: Any) -> StackResult:
        return StackResult(name, role, account_id, region, status, resources, **extra)

    try:
        rendered = render(config, stack=name, preview=True, org=org)
    except RenderError as error:
        return report("error", _counted(error.resources), error=str(error))
    finally:
        lap("render")
    count = _counted(rendered.resources)
    resources = registrations_to_resources(rendered, config)
    violations = _judged_by(client, name, config, resources)
    lap("judge")
    if cross_check is not None:
        why = disagreement(violations, _judged_by(cross_check, name, config, resources))
        lap("cross-check")
        if why:
            return report("error", count, error=why)
    if isinstance(violations, str):
        return report("error", count, error=f"policy pack failed: {violations}")
    failed = any(violation.level == "mandatory" for violation in violations)
    return report("failed" if failed else "passed", count, violations=violations)
