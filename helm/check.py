#!/usr/bin/env python3
"""Checks the Helm chart in helm/returnbridge without a cluster or a helm binary.

For each scenario (the default values, values-production.yaml, mode=all) it renders the chart with
helm-python-sdk (Helm's own SDK, so the values schema and `fail` guards run as in `helm install`),
validates every document with `kubernetes-validate --strict` against KUBE_VERSION, and asserts the
chart's invariants. Values the chart must refuse are tried too. Every violation is listed, then the
script exits 1.

Run by .ci/run; by hand: .ci-venv/bin/python helm/check.py
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import yaml

# The newest Kubernetes the pinned kubernetes-validate (1.37.0) carries schemas for.
KUBE_VERSION = "1.37.0"
HERE = Path(__file__).resolve().parent
CHART = HERE / "returnbridge"
README = HERE.parent / "README.md"
RULES = CHART / "files" / "prometheus" / "rules.yaml"
DASHBOARD = CHART / "files" / "grafana" / "returnbridge.json"
MONITORING_ON = {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True},
                 "grafanaDashboard": {"enabled": True}}
# The Prometheus Operator's kinds: CRDs, for which kubernetes-validate carries no schema. They are
# left out of its run and checked by check_monitoring instead (structure, and one source per file).
CRD_KINDS = {"ServiceMonitor", "PrometheusRule"}
RELEASE, NAMESPACE = "rb", "returnbridge"
DB_URL_ENV = "RETURNBRIDGE_DATABASE__URL"
APP_COMPONENTS = {"api", "gateway", "all"}


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


SCENARIOS: dict[str, dict[str, Any]] = {
    "default values": {},
    "values-production.yaml": load_yaml(CHART / "values-production.yaml"),
    "mode=all": {"mode": "all", "all": {"replicaCount": 2, "podDisruptionBudget": {"enabled": True}}},
    "mode=all, autoscaled, migrations in the pods": {
        "mode": "all",
        "migrations": {"enabled": False},
        "all": {"autoscaling": {"enabled": True, "minReplicas": 3}, "podDisruptionBudget": {"enabled": True, "minAvailable": "50%"}},
    },
    "mode=all, every monitoring object on": {"mode": "all", "metrics": MONITORING_ON},
}

# Values the chart must refuse, and a piece of the message that says why.
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("image tag latest", {"image": {"tag": "latest"}}, "/image/tag"),
    ("database.url in the ConfigMap's config", {"config": {"database": {"url": "postgres://u:p@h/db"}}}, "url"),
    ("a config key the binary does not know", {"config": {"server": {"listen_addr": "0.0.0.0:1"}}}, "listen_addr"),
    ("a replica count as a string", {"api": {"replicaCount": "3"}}, "/api/replicaCount"),
    ("PDB minAvailable equal to the replicas", {"api": {"replicaCount": 2, "podDisruptionBudget": {"minAvailable": 2}}}, "must be below"),
    ("PDB minAvailable at the HPA floor", {"gateway": {"autoscaling": {"enabled": True, "minReplicas": 2}, "podDisruptionBudget": {"minAvailable": 2}}}, "must be below"),
    ("no database at all", {"database": {"url": "", "existingSecret": ""}}, "database.url"),
    ("a non-postgres database url", {"database": {"url": "sqlite:returnbridge.db"}}, "/database/url"),
]


class Failures:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.scope = ""

    def check(self, ok: Any, message: str) -> bool:
        if not ok:
            self.items.append(f"[{self.scope}] {message}")
        return bool(ok)


def render(values: dict[str, Any]) -> dict[str, str]:
    with helm.Chart.load(CHART) as chart:
        return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def documents(rendered: dict[str, str]) -> list[dict[str, Any]]:
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def kubernetes_validate(docs: list[dict[str, Any]], f: Failures) -> None:
    """Every document through the kubernetes-validate CLI, strict; a missing schema is a failure too."""
    docs = [d for d in docs if d["kind"] not in CRD_KINDS]
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, doc in enumerate(docs):
            path = Path(tmp) / f"{i:02d}-{doc['kind']}-{doc['metadata']['name']}.yaml"
            path.write_text(yaml.safe_dump(doc))
            files.append(str(path))
        run = subprocess.run(
            [str(Path(sys.executable).parent / "kubernetes-validate"), "--strict", "--quiet",
             "-k", KUBE_VERSION, *files],
            capture_output=True, text=True,
        )
    out = (run.stdout + run.stderr).strip()
    f.check(run.returncode == 0 and not out,
            f"kubernetes-validate --strict -k {KUBE_VERSION} failed (rc {run.returncode}):\n    "
            + out.replace(tmp + "/", "").replace("\n", "\n    "))


def hook(doc: dict[str, Any]) -> tuple[set[str], int] | None:
    ann = doc["metadata"].get("annotations") or {}
    if "helm.sh/hook" not in ann:
        return None
    return set(ann["helm.sh/hook"].split(",")), int(ann.get("helm.sh/hook-weight", "0"))


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def env_value(container: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((e for e in container.get("env", []) if e["name"] == name), None)


def readme_config_keys() -> set[str]:
    """The binary's config keys, from the README's Configuration table (it lists every key)."""
    keys = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \|", README.read_text(), re.M))
    if not keys:
        sys.exit(f"helm/check.py: found no config keys in {README}'s Configuration table")
    return keys


def check_values_table(f: Failures) -> None:
    """Every key of values.yaml has a row (or a parent row) in the chart README's table, and every
    row names a key that exists. `<role>` rows cover api, gateway and all."""
    f.scope = "chart README values table"
    rows = set()
    for cell in re.findall(r"^\| (`[^|]+`) \|", (CHART / "README.md").read_text(), re.M):
        rows.update(re.findall(r"`([^`]+)`", cell))

    def leaves(tree: Any, prefix: str = "") -> list[str]:
        if isinstance(tree, dict) and tree:
            return [leaf for k, v in tree.items() for leaf in leaves(v, f"{prefix}{k}.")]
        return [prefix[:-1]]

    values = load_yaml(CHART / "values.yaml")
    paths = [re.sub(r"^(api|gateway|all)\.", "<role>.", p) for p in leaves(values)]
    for path in paths:
        parts = path.split(".")
        f.check(any(".".join(parts[:i]) in rows for i in range(1, len(parts) + 1)),
                f"values key {path} has no row in helm/returnbridge/README.md")
    for row in rows:
        f.check(any(p == row or p.startswith(row + ".") for p in paths),
                f"README row {row} names no key of values.yaml")


def check_scenario(values: dict[str, Any], docs: list[dict[str, Any]], f: Failures) -> None:
    merged = helm.Chart.load(CHART).merge_values(values)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    named = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    deployments = by_kind.get("Deployment", [])
    jobs = by_kind.get("Job", [])
    port = merged["grpcPort"]

    # The roles: split gives api and gateway, all gives one --role all.
    roles = sorted(c["args"][c["args"].index("--role") + 1]
                   for d in deployments for c in d["spec"]["template"]["spec"]["containers"]
                   if "--role" in c.get("args", []))
    want = ["all"] if merged["mode"] == "all" else ["api", "gateway"]
    f.check(roles == want, f"Deployments run roles {roles}, expected {want}")

    # The config file: parses, listens on every interface, integer values, only known keys.
    configmaps = by_kind.get("ConfigMap", [])
    config_text = next((cm["data"]["returnbridge.toml"] for cm in configmaps
                        if "returnbridge.toml" in cm.get("data", {})), None)
    if f.check(config_text is not None, "no ConfigMap holds returnbridge.toml"):
        try:
            config = tomllib.loads(config_text)
        except tomllib.TOMLDecodeError as e:
            f.check(False, f"returnbridge.toml does not parse: {e}")
            config = {}
        known = readme_config_keys()
        for section, table in config.items():
            for key, value in table.items():
                f.check(f"{section}.{key}" in known, f"returnbridge.toml sets {section}.{key}, which the binary does not know")
                f.check(not isinstance(value, float), f"returnbridge.toml {section}.{key} = {value!r} is a float; the binary wants an integer")
        f.check(config.get("server", {}).get("listen") == f"0.0.0.0:{port}",
                f"server.listen is {config.get('server', {}).get('listen')!r}, expected '0.0.0.0:{port}' (the default is loopback)")
        f.check("url" not in config.get("database", {}), "database.url is in the ConfigMap")

    # No Secret data in ConfigMaps: no value of any rendered Secret, no credentials-looking URL.
    secret_values = [v for s in by_kind.get("Secret", []) for v in (s.get("stringData") or {}).values()]
    if not merged["database"]["existingSecret"]:
        secret_values.append(merged["database"]["url"])
    for cm in configmaps:
        for key, text in (cm.get("data") or {}).items():
            name = f"ConfigMap {cm['metadata']['name']} key {key}"
            f.check(not any(v and v in text for v in secret_values), f"{name} holds a Secret's value")
            f.check(not re.search(r"postgres(ql)?://|password", text, re.I), f"{name} holds a database URL or a password")

    # Both roles get the database URL from a Secret the release has or the user named.
    secret_names = {s["metadata"]["name"] for s in by_kind.get("Secret", [])}
    existing = merged["database"]["existingSecret"]

    def secret_ref(container: dict[str, Any], who: str, allowed: Callable[[str], bool], rule: str) -> None:
        env = env_value(container, DB_URL_ENV)
        ref = ((env or {}).get("valueFrom") or {}).get("secretKeyRef")
        if f.check(ref, f"{who}: {DB_URL_ENV} is not read from a Secret (secretKeyRef)"):
            f.check(ref["key"] == merged["database"]["secretKey"], f"{who}: reads key {ref['key']!r}, not database.secretKey")
            f.check(ref["name"] == existing if existing else allowed(ref["name"]),
                    f"{who}: reads Secret {ref['name']!r}, which is not {rule}")

    for d in deployments:
        who = f"Deployment {d['metadata']['name']}"
        spec = d["spec"]["template"]["spec"]
        app = spec["containers"][0]
        non_hook_secret = lambda n: n in secret_names and not hook(named[("Secret", n)])
        secret_ref(app, who, non_hook_secret, "database.existingSecret or a Secret the release keeps")
        f.check(hook(d) is None, f"{who} is a Helm hook; Deployments must be release resources")
        migrate_on_start = (env_value(app, "RETURNBRIDGE_DATABASE__MIGRATE_ON_START") or {}).get("value")
        expected = "false" if merged["migrations"]["enabled"] else "true"
        f.check(migrate_on_start == expected,
                f"{who}: RETURNBRIDGE_DATABASE__MIGRATE_ON_START is {migrate_on_start!r}, expected {expected!r}")
        f.check("--config" in app.get("args", []), f"{who}: the config file is not passed with --config")

        # Probes: native gRPC, on the port the container listens on.
        ports = {p["name"]: p["containerPort"] for p in app.get("ports", [])}
        f.check(ports.get("grpc") == port, f"{who}: container port 'grpc' is {ports.get('grpc')}, expected {port}")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            grpc = (app.get(probe) or {}).get("grpc")
            if f.check(grpc, f"{who}: {probe} is not a native gRPC probe"):
                f.check(grpc["port"] == port, f"{who}: {probe} targets port {grpc['port']}, the gRPC health service is on {port}")
                wanted = "" if probe == "readinessProbe" else "liveness"
                f.check(grpc.get("service", "") == wanted, f"{who}: {probe} asks health for {grpc.get('service')!r}, expected {wanted!r}")

        # Hardening.
        psc = spec.get("securityContext", {})
        f.check(psc.get("runAsNonRoot") is True, f"{who}: pod securityContext lacks runAsNonRoot: true")
        f.check(spec.get("automountServiceAccountToken") is False, f"{who}: mounts a ServiceAccount token it never uses")
        f.check(spec.get("topologySpreadConstraints"), f"{who}: no topologySpreadConstraints")
        grace = merged["config"]["server"]["shutdown_grace_secs"]
        f.check(spec.get("terminationGracePeriodSeconds", 30) > grace,
                f"{who}: terminationGracePeriodSeconds does not exceed shutdown_grace_secs ({grace}), so SIGKILL cuts the drain")

    # The migration hook: runs `migrate` before any Deployment is created or changed.
    if merged["migrations"]["enabled"]:
        migrate = [j for j in jobs if j["spec"]["template"]["spec"]["containers"][0].get("args") == ["migrate"]]
        if f.check(len(migrate) == 1, f"expected one Job running `returnbridge migrate`, found {len(migrate)}"):
            job = migrate[0]
            h = hook(job)
            if f.check(h, "the migration Job is not a Helm hook, so it races the Deployments"):
                events, weight = h
                f.check({"pre-install", "pre-upgrade"} <= events,
                        f"the migration Job's hooks are {sorted(events)}; it must run pre-install and pre-upgrade")

                def made_before_job(n: str) -> bool:
                    s = named.get(("Secret", n))
                    sh = s and hook(s)
                    return bool(sh) and events <= sh[0] and sh[1] < weight

                secret_ref(job["spec"]["template"]["spec"]["containers"][0], "migration Job", made_before_job,
                           "database.existingSecret or a hook Secret made before the Job (same hooks, lower weight)")
                sa = job["spec"]["template"]["spec"].get("serviceAccountName")
                f.check(not sa or not merged["serviceAccount"]["create"],
                        f"the migration Job uses ServiceAccount {sa!r}, which does not exist yet when pre-install hooks run")
    for d in docs:
        if d["kind"] not in ("Job", "Secret") and hook(d):
            f.check(False, f"{d['kind']} {d['metadata']['name']} is a hook; only the migration Job and its Secret should be")

    # Every container: a pinned image (never latest), resources, a locked-down securityContext.
    for d in deployments + jobs:
        spec = d["spec"]["template"]["spec"]
        for c in containers(spec):
            who = f"{d['kind']} {d['metadata']['name']} container {c['name']}"
            image = c["image"]
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] and "@" not in image else None
            f.check("@sha256:" in image or (tag and tag != "latest"),
                    f"{who}: image {image!r} must carry a release tag or a digest, never 'latest' or none")
            res = c.get("resources") or {}
            requests, limits = res.get("requests") or {}, res.get("limits") or {}
            f.check("cpu" in requests and "memory" in requests, f"{who}: resources.requests lacks cpu or memory")
            f.check("memory" in limits, f"{who}: resources.limits lacks memory")
            sc = c.get("securityContext") or {}
            f.check(sc.get("readOnlyRootFilesystem") is True, f"{who}: root filesystem is writable")
            f.check(sc.get("allowPrivilegeEscalation") is False, f"{who}: allowPrivilegeEscalation is not false")
            f.check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{who}: capabilities do not drop ALL")
            seccomp = (sc.get("seccompProfile") or spec.get("securityContext", {}).get("seccompProfile") or {}).get("type")
            f.check(seccomp == "RuntimeDefault", f"{who}: seccompProfile is {seccomp!r}, expected RuntimeDefault")

    # HPAs scale a Deployment that leaves its replica count to them.
    floors: dict[str, int] = {d["metadata"]["name"]: d["spec"].get("replicas", 1) for d in deployments}
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = hpa["spec"]["scaleTargetRef"]["name"]
        if f.check(("Deployment", target) in named, f"HPA {hpa['metadata']['name']} scales {target}, which is not rendered"):
            f.check("replicas" not in named[("Deployment", target)]["spec"],
                    f"Deployment {target} sets replicas although HPA {hpa['metadata']['name']} owns them")
            floors[target] = hpa["spec"]["minReplicas"]

    # PDBs: each covers a Deployment and leaves room to evict one of its pods.
    for pdb in by_kind.get("PodDisruptionBudget", []):
        who = f"PDB {pdb['metadata']['name']}"
        sel = pdb["spec"]["selector"]["matchLabels"]
        covered = [d for d in deployments
                   if sel.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        if not f.check(len(covered) == 1, f"{who} selects {len(covered)} Deployments, expected 1"):
            continue
        replicas = floors[covered[0]["metadata"]["name"]]
        m = pdb["spec"].get("minAvailable")
        f.check(m is not None, f"{who} has no minAvailable")
        if isinstance(m, str) and m.endswith("%"):
            m = math.ceil(replicas * int(m[:-1]) / 100)
        f.check(m is None or m < replicas,
                f"{who}: minAvailable {pdb['spec'].get('minAvailable')} is not below the {replicas} replicas it protects, so nodes never drain")

    # Services: one per role, reaching pods that listen on the named port.
    check_monitoring(merged, docs, deployments, f)
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    for role in ("api", "gateway"):
        name = f"{RELEASE}-returnbridge-{role}"
        if f.check(name in services, f"no Service {name}"):
            sel = services[name]["spec"]["selector"]
            pods = [d for d in deployments if sel.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
            f.check(pods, f"Service {name} selects no Deployment's pods")
            ports = {p["name"]: p["targetPort"] for p in services[name]["spec"]["ports"]}
            f.check(ports.get("grpc") == "grpc", f"Service {name} does not target the 'grpc' port")
            # The gateway's Service also carries suppliers' JSON callbacks, to gateway pods' port.
            extra = {"callbacks": "callbacks"} if role == "gateway" else {}
            f.check(ports == {"grpc": "grpc", **extra}, f"Service {name} has ports {ports}")
            if role == "gateway":
                f.check(all(any(c.get("name") == "callbacks" for c in ctr.get("ports", []))
                            for p in pods for ctr in p["spec"]["template"]["spec"]["containers"]),
                        f"Service {name}'s pods do not listen on 'callbacks'")


def check_monitoring(merged: dict[str, Any], docs: list[dict[str, Any]], deployments: list[dict[str, Any]],
                     f: Failures) -> None:
    """The optional monitoring objects: rendered exactly when enabled, the rules and the dashboard
    the very files CI tests, and the ServiceMonitor reaching every pod's metrics port."""
    m = merged["metrics"]
    kinds = {d["kind"] for d in docs}
    f.check(("ServiceMonitor" in kinds) == m["serviceMonitor"]["enabled"], "ServiceMonitor rendered iff metrics.serviceMonitor.enabled")
    f.check(("PrometheusRule" in kinds) == m["prometheusRule"]["enabled"], "PrometheusRule rendered iff metrics.prometheusRule.enabled")
    boards = [d for d in docs if d["kind"] == "ConfigMap" and "returnbridge.json" in (d.get("data") or {})]
    f.check(bool(boards) == m["grafanaDashboard"]["enabled"], "dashboard ConfigMap rendered iff metrics.grafanaDashboard.enabled")

    for rule in (d for d in docs if d["kind"] == "PrometheusRule"):
        f.check(rule["apiVersion"] == "monitoring.coreos.com/v1", f"PrometheusRule apiVersion {rule['apiVersion']}")
        f.check(rule["spec"] == load_yaml(RULES), "the PrometheusRule's spec is not files/prometheus/rules.yaml as is")
        for k, v in m["prometheusRule"]["labels"].items():
            f.check(rule["metadata"]["labels"].get(k) == v, f"PrometheusRule lacks label {k}={v}")
    for board in boards:
        f.check(board["metadata"]["labels"].get("grafana_dashboard") == "1" or "grafana_dashboard" not in m["grafanaDashboard"]["labels"],
                "the dashboard ConfigMap lacks the sidecar label grafana_dashboard: \"1\"")
        f.check(json.loads(board["data"]["returnbridge.json"]) == json.loads(DASHBOARD.read_text()),
                "the dashboard ConfigMap does not carry files/grafana/returnbridge.json as is")

    monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
    for mon in monitors:
        f.check(mon["apiVersion"] == "monitoring.coreos.com/v1", f"ServiceMonitor apiVersion {mon['apiVersion']}")
        sel = mon["spec"]["selector"]["matchLabels"]
        services = [d for d in docs if d["kind"] == "Service" and sel.items() <= d["metadata"]["labels"].items()]
        if not f.check(len(services) == 1, f"ServiceMonitor selects {len(services)} Services, expected 1"):
            continue
        svc = services[0]
        f.check(svc["spec"].get("clusterIP") == "None", "the metrics Service is not headless, so replicas are not scraped one by one")
        ports = {p["name"]: p for p in svc["spec"]["ports"]}
        for ep in mon["spec"]["endpoints"]:
            f.check(ep["port"] in ports and ports[ep["port"]]["targetPort"] == "metrics",
                    f"ServiceMonitor endpoint port {ep['port']} is not the Service's port targeting 'metrics'")
        for d in deployments:
            labels = d["spec"]["template"]["metadata"]["labels"]
            app = d["spec"]["template"]["spec"]["containers"][0]
            f.check(svc["spec"]["selector"].items() <= labels.items(), f"the metrics Service does not select {d['metadata']['name']}'s pods")
            f.check(any(p["name"] == "metrics" and p["containerPort"] == merged["metricsPort"] for p in app.get("ports", [])),
                    f"{d['metadata']['name']} has no container port 'metrics' on metricsPort")


def main() -> int:
    f = Failures()
    f.scope = "helm lint"
    for scenario, values in SCENARIOS.items():
        report = helm.lint(CHART, values, strict=True, kube_version=f"v{KUBE_VERSION}")
        for m in report["messages"]:
            f.check(m["severity"] < 2, f"{scenario}: {m['path']}: {m['error']}")
        for e in report["errors"]:
            f.check(False, f"{scenario}: {e}")

    for scenario, values in SCENARIOS.items():
        f.scope = scenario
        try:
            docs = documents(render(values))
        except helm.HelmError as e:
            f.check(False, f"the chart does not render: {e}")
            continue
        kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
        kubernetes_validate(docs, f)
        check_scenario(values, docs, f)
        print(f"rendered {scenario}: {len(docs)} documents ({', '.join(kinds)})")

    check_values_table(f)

    for what, values, why in REFUSED:
        f.scope = f"refuses {what}"
        try:
            render(values)
            f.check(False, f"the chart rendered {values}; it must refuse it")
        except helm.HelmError as e:
            f.check(why in str(e), f"refused, but the message does not name {why!r}: {e}")

    if f.items:
        print(f"\nhelm/check.py: {len(f.items)} chart violation(s):", file=sys.stderr)
        for item in f.items:
            print(f"  - {item}", file=sys.stderr)
        return 1
    print(f"chart OK: {len(SCENARIOS)} value sets valid for Kubernetes {KUBE_VERSION} (strict) "
          f"with every invariant held; {len(REFUSED)} bad value sets refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
