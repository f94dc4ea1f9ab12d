"""deploy/kubernetes: each overlay rendered with `kubectl kustomize`, every object validated
offline against the Kubernetes schemas, then what the fleet relies on read from the YAML."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import validate  # type: ignore[import-untyped]
from kubernetes_validate.utils import ValidationError  # type: ignore[import-untyped]

from proxy.config import load_settings
from proxy.ledger.pricing import load_pricing
from proxy.mapping.catalog import load_catalog
from proxy.tenants import load_tenants
from tests.deploy.support import DEPLOY, ROOT, kubectl_kustomize

OVERLAYS = ["hml", "prd"]
# The oldest Kubernetes the manifests promise to run on, and the newest the package knows.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
# What the proxy may reach: DNS, HTTPS (PDT, legacy hosts), PostgreSQL, Redis.
ALLOWED_EGRESS_PORTS = {53, 443, 5432, 6379}
SECRET_LIKE = re.compile(r"KEY|TOKEN|PASSWORD|SECRET|DSN|REDIS_URL")

Objects = list[dict[str, Any]]
_rendered: dict[str, Objects] = {}


def _render(overlay: str) -> Objects:
    if overlay not in _rendered:
        _rendered[overlay] = kubectl_kustomize(DEPLOY / "kubernetes" / "overlays" / overlay)
    return _rendered[overlay]


def _one(objects: Objects, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name or ''}: {len(found)} found"
    return found[0]


def _config_file(objects: Objects, prefix: str, key: str) -> str:
    maps = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(prefix)]
    assert len(maps) == 1, prefix
    text: str = maps[0]["data"][key]
    return text


def _settings_file(objects: Objects, tmp_path: Path) -> Path:
    path = tmp_path / "proxy.yaml"
    path.write_text(_config_file(objects, "pdt-proxy-settings", "proxy.yaml"), encoding="utf-8")
    return path


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_kubernetes(overlay: str, version: str) -> None:
    failures = []
    for item in _render(overlay):
        try:
            validate(item, version, strict=True)
        except ValidationError as error:
            failures.append(f"{item['kind']}/{item['metadata']['name']}: {error}")
    assert failures == []


def test_the_validator_rejects_a_broken_object() -> None:
    # A validator that accepts anything proves nothing: a misspelt field must fail.
    deployment = _one(_render("prd"), "Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 3}}
    with pytest.raises(ValidationError):
        validate(broken, KUBERNETES_VERSIONS[0], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_fleet_is_complete(overlay: str) -> None:
    kinds = sorted({o["kind"] for o in _render(overlay)})
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
    ]
    namespaces = {o["metadata"].get("namespace") for o in _render(overlay)}
    assert namespaces == {f"pdt-proxy-{overlay}"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_at_least_two_replicas_always(overlay: str) -> None:
    objects = _render(overlay)
    deployment = _one(objects, "Deployment")
    autoscaler = _one(objects, "HorizontalPodAutoscaler")
    assert deployment["spec"]["replicas"] >= 2
    assert autoscaler["spec"]["minReplicas"] >= 2
    assert (
        autoscaler["spec"]["minReplicas"]
        <= deployment["spec"]["replicas"]
        <= autoscaler["spec"]["maxReplicas"]
    )
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert _one(objects, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes(overlay: str) -> None:
    (container,) = _pod_spec(_one(_render(overlay), "Deployment"))["containers"]
    probes = {
        kind: container[kind]["httpGet"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["startupProbe"]["path"] == "/healthz"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert {probe["port"] for probe in probes.values()} == {"http"}
    assert ports["http"] == 8080


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_non_root_with_a_read_only_root_filesystem(overlay: str, kind: str) -> None:
    pod = _pod_spec(_one(_render(overlay), kind))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["automountServiceAccountToken"] is False
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"]
        assert container["resources"]["limits"]["memory"]
        writable = {
            m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"] if not m.get("readOnly")
        }
        # Whatever must be written (the data dir, /tmp for the --workers metrics) is an
        # emptyDir; everything else mounted is read-only configuration.
        assert set(writable) == {"/var/lib/pdt-proxy", "/tmp"}  # noqa: S108 (a path in the pod)
        assert all("emptyDir" in volume for volume in writable.values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_outlasts_the_graceful_shutdown(overlay: str, tmp_path: Path) -> None:
    objects = _render(overlay)
    settings = load_settings(_settings_file(objects, tmp_path), environ={})
    pod = _pod_spec(_one(objects, "Deployment"))
    (container,) = pod["containers"]
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pause_s = int(command[1])
    # The endpoints drop the pod during the pause; then SIGTERM waits for requests, then
    # the shadow queue drains, then the ledger commits, all before SIGKILL.
    needed = pause_s + settings.server.graceful_shutdown_s + settings.shadow.drain_s
    assert pod["terminationGracePeriodSeconds"] > needed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_pick_the_servers_and_never_the_migration(overlay: str) -> None:
    objects = _render(overlay)
    deployment = _one(objects, "Deployment")
    server_labels = deployment["spec"]["template"]["metadata"]["labels"]
    job_labels = _one(objects, "Job")["spec"]["template"]["metadata"]["labels"]
    selectors = {
        "Deployment": deployment["spec"]["selector"]["matchLabels"],
        "Service": _one(objects, "Service")["spec"]["selector"],
        "PodDisruptionBudget": _one(objects, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
    }
    for kind, selector in selectors.items():
        assert _matches(selector, server_labels), kind
        assert not _matches(selector, job_labels), kind


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_schema_moves_in_the_job_only(overlay: str) -> None:
    objects = _render(overlay)
    (server,) = _pod_spec(_one(objects, "Deployment"))["containers"]
    (migrate,) = _pod_spec(_one(objects, "Job"))["containers"]
    server_env = {item["name"]: item for item in server["env"]}
    migrate_env = {item["name"]: item for item in migrate["env"]}
    assert server_env["PROXY_DATABASE_AUTO_MIGRATE"]["value"] == "false"
    assert migrate["args"] == ["pdt-proxy", "migrate"]
    assert server["args"][:2] == ["pdt-proxy", "serve"]
    # The same database for both, from the same Secret.
    assert migrate_env["PROXY_DATABASE_DSN"]["valueFrom"] == server_env["PROXY_DATABASE_DSN"]["valueFrom"]
    assert server["image"] == migrate["image"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_in_plain_text(overlay: str, tmp_path: Path) -> None:
    objects = _render(overlay)
    assert [o for o in objects if o["kind"] == "Secret"] == []
    for kind in ("Deployment", "Job"):
        for container in _pod_spec(_one(objects, kind))["containers"]:
            for item in container["env"]:
                if SECRET_LIKE.search(item["name"]):
                    assert "value" not in item, f"{kind} {item['name']} holds a value"
                    assert "secretKeyRef" in item["valueFrom"], item["name"]
    settings = yaml.safe_load(_config_file(objects, "pdt-proxy-settings", "proxy.yaml"))
    assert "token_key" not in settings.get("security", {})
    assert "admin_token" not in settings.get("security", {})
    assert "dsn" not in settings.get("ledger", {})
    assert "dsn" not in settings.get("database", {})
    tenants = yaml.safe_load(_config_file(objects, "pdt-proxy-tenants", "tenants.yaml"))
    for tenant in tenants["tenants"]:
        for side in ("pdt", "legacy"):
            for credential in tenant.get(side, {}).values():
                assert set(credential["password"]) <= {"env", "file"}, tenant["id"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_configuration_loads_as_the_proxy_reads_it(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects = _render(overlay)
    settings = load_settings(_settings_file(objects, tmp_path), environ={})
    # Real hosts: the demo tenants and the built-in simulators are refused there.
    assert not settings.pdt.uses_simulator
    assert not settings.legacy.uses_simulator
    if overlay == "hml":
        hosts = [env.base_url for env in settings.pdt.environments.values()]
        hosts += [env.base_url for _, env in settings.legacy.all_environments()]
        assert all("hml" in str(url) or "homologacao" in str(url) for url in hosts), hosts
    (container,) = _pod_spec(_one(objects, "Deployment"))["containers"]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert str(settings.tenants_file).startswith(mounts["tenants"])
    assert str(settings.ledger.pricing_file).startswith(mounts["mappings"])
    tenants_text = _config_file(objects, "pdt-proxy-tenants", "tenants.yaml")
    tenants_path = tmp_path / "tenants.yaml"
    tenants_path.write_text(tenants_text, encoding="utf-8")
    # What the Secret pdt-proxy-upstream-credentials supplies in the pod.
    for name in re.findall(r"\{env: ([A-Z0-9_]+)\}", tenants_text):
        monkeypatch.setenv(name, "from-the-secret")
    catalog = load_catalog(ROOT / "mappings")
    directory = load_tenants(tenants_path, known_products=frozenset(catalog.products), simulator_only=False)
    assert directory.tenants
    # The tenants' upstream passwords come from the Secret the container takes whole.
    assert [source["secretRef"]["name"] for source in container["envFrom"]] == [
        "pdt-proxy-upstream-credentials"
    ]
    pricing_path = tmp_path / "pricing.yaml"
    pricing_path.write_text(_config_file(objects, "pdt-proxy-mappings", "pricing.yaml"), encoding="utf-8")
    assert load_pricing(pricing_path)


def _egress_rules(objects: Objects, pod_labels: dict[str, str]) -> list[dict[str, Any]]:
    policies = [
        o
        for o in objects
        if o["kind"] == "NetworkPolicy"
        and _matches(o["spec"]["podSelector"].get("matchLabels", {}), pod_labels)
    ]
    # Selected by a policy with Egress: everything not allowed below is denied.
    assert any("Egress" in policy["spec"]["policyTypes"] for policy in policies)
    return [rule for policy in policies for rule in policy["spec"].get("egress", [])]


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_egress_only_to_dns_pdt_legacy_postgresql_and_redis(overlay: str, kind: str) -> None:
    objects = _render(overlay)
    rules = _egress_rules(objects, _one(objects, kind)["spec"]["template"]["metadata"]["labels"])
    ports = set()
    for rule in rules:
        # A rule without destinations or ports would open everything.
        assert rule.get("to"), rule
        assert rule.get("ports"), rule
        ports |= {port["port"] for port in rule["ports"]}
        for peer in rule["to"]:
            if "ipBlock" in peer:
                assert ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen >= 8, peer
    assert ports == ALLOWED_EGRESS_PORTS
