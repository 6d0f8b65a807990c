"""Every query of the Grafana dashboard, run against a real Prometheus scraping the real server.

Starts `returnbridge serve` (SQLite in a temporary folder, every listener on port 0, private
destinations allowed), and Debian's `prometheus` scraping its /metrics every second with the
chart's rules file loaded. Then a scripted workload through the CLI: two webhook suppliers, one
played by `returnbridge supplier-sim` failing 30% of the deliveries and answering the rest (acks
and decisions), one pointed at a closed port (its breaker opens, and its 1-second ack deadline is
breached); returns authorized for both, a call that fails, reads. While the workload keeps going,
every panel's every target is sent to /api/v1/query with Grafana's variables filled in ($supplier
as Grafana sends "All": both supplier ids as a regex; $__rate_interval 30s, $__range 5m), and a
query answering nothing, or only NaN, fails the test. The `supplier` variable's query and the
rules' health are checked too. Python standard library only.

Usage: python dashboard_queries.py RETURNBRIDGE_BINARY DASHBOARD_JSON RULES_YAML
"""

import datetime
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

WORKLOAD_SECONDS = 25
SUBSTITUTIONS = {"$__rate_interval": "30s", "$__range": "5m", "$__interval": "1s"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_log(path, proc, wanted, timeout=60):
    """The `addr` field of the first JSON log line whose message starts with each wanted prefix."""
    found = {}
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(path) as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                message = entry.get("message", "")
                for key, prefix in wanted.items():
                    if key not in found and message.startswith(prefix):
                        found[key] = entry["addr"]
        if len(found) == len(wanted):
            return found
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    sys.exit(f"the server did not log {sorted(set(wanted) - set(found))}:\n{open(path).read()}")


def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def main(binary, dashboard_path, rules_path):
    prometheus = shutil.which("prometheus")
    if not prometheus:
        sys.exit("prometheus is not installed (apt-get install prometheus)")
    tmp = tempfile.mkdtemp(prefix="rb-dashboard-")
    procs = []
    try:
        return run(binary, prometheus, tmp, procs, dashboard_path, rules_path)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def run(binary, prometheus, tmp, procs, dashboard_path, rules_path):
    db = f"sqlite:{tmp}/returnbridge.db"
    cli = lambda *args, env=None, check=True: subprocess.run(
        [binary, *args], capture_output=True, text=True, env=env, check=check, timeout=60)
    key = cli("keys", "create", "--tenant", "ci-metrics", "--database-url", db).stdout.strip()

    log = os.path.join(tmp, "serve.log")
    env = dict(os.environ, RETURNBRIDGE_GATEWAY__ALLOW_PRIVATE_DESTINATIONS="true",
               RETURNBRIDGE_TELEMETRY__METRICS_LISTEN="127.0.0.1:0",
               RETURNBRIDGE_GATEWAY__CALLBACK_LISTEN="127.0.0.1:0", RETURNBRIDGE_LOG__FORMAT="json")
    with open(log, "w") as out:
        server = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--database-url", db],
                                  stdout=out, stderr=subprocess.STDOUT, env=env)
    procs.append(server)
    addrs = wait_for_log(log, server, {"grpc": "returnbridge listening", "metrics": "metrics at"})
    print(f"server on {addrs['grpc']}, metrics on {addrs['metrics']}")

    prom_port = free_port()
    prom_url = f"http://127.0.0.1:{prom_port}"
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        json.dump({  # JSON is YAML
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [os.path.abspath(rules_path)],
            "scrape_configs": [{"job_name": "returnbridge",
                                "static_configs": [{"targets": [addrs["metrics"]]}]}],
        }, f)
    with open(os.path.join(tmp, "prometheus.log"), "w") as out:
        procs.append(subprocess.Popen(
            [prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp}/tsdb",
             f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=out, stderr=subprocess.STDOUT))
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{prom_url}/-/ready", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        sys.exit("prometheus did not become ready:\n" + open(os.path.join(tmp, "prometheus.log")).read())

    client = dict(os.environ, RETURNBRIDGE_SERVER=f"http://{addrs['grpc']}", RETURNBRIDGE_API_KEY=key)
    field = lambda text, name: next(l.split(": ", 1)[1].split()[0] for l in text.splitlines()
                                    if l.startswith(name + ":"))
    days_ago = lambda n: (datetime.datetime.now(datetime.timezone.utc)
                          - datetime.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ")

    # A supplier played by supplier-sim, failing 30% of its deliveries and answering the rest.
    created = cli("suppliers", "create", "--name", "Flaky Supply", "--webhook-url",
                  "https://flaky.example/returns", env=client).stdout
    flaky, secret = field(created, "supplier_id"), field(created, "webhook_signing_secret")
    flaky_key = cli("keys", "create", "--tenant", "ci-metrics", "--supplier", flaky,
                    "--database-url", db).stdout.strip()
    sim_log = os.path.join(tmp, "supplier-sim.log")
    with open(sim_log, "w") as err:
        sim = subprocess.Popen([binary, "supplier-sim", "--webhook-secret", secret, "--fail-rate", "0.3",
                                "--delay", "200ms"], stdout=subprocess.PIPE, stderr=err,
                               text=True, env=dict(client, RETURNBRIDGE_API_KEY=flaky_key))
    procs.append(sim)
    sim_url = sim.stdout.readline().strip()
    if not sim_url:
        sys.exit("supplier-sim printed no URL:\n" + open(sim_log).read())
    threading.Thread(target=sim.stdout.read, daemon=True).start()  # keep its pipe drained
    cli("suppliers", "update", flaky, "--webhook-url", sim_url, env=client)

    # A supplier nobody answers for: a closed port, and a 1-second ack deadline.
    down = field(cli("suppliers", "create", "--name", "Down Supply", "--webhook-url",
                     f"http://127.0.0.1:{free_port()}/returns", env=client).stdout, "supplier_id")
    for supplier, ack, decision in ((flaky, "1d", "3d"), (down, "1s", "2s")):
        cli("contracts", "publish", "--supplier", supplier, "--effective-from", days_ago(30),
            "--return-window-days", "30", "--defect-window-days", "365", "--no-fault-returns",
            "--restocking-fee-bps", "1000", "--defect-coverage", "full-retail", "--transit-damage",
            "carrier", "--listing-owner", "supplier", "--no-fault-shipping", "customer",
            "--ack-within", ack, "--decision-within", decision, "--credit-within", "14d", env=client)

    # Returns for both (20 days after delivery: past the EU's 14 days, inside the contract's 30, so
    # each goes to the supplier to decide), a failing call and reads, for WORKLOAD_SECONDS.
    started, n = time.time(), 0
    while time.time() - started < WORKLOAD_SECONDS:
        n += 1
        for supplier in (flaky, down):
            cli("returns", "authorize", "--order-id", f"metrics-{n}-{supplier[-6:]}", "--supplier", supplier,
                "--ordered", days_ago(22), "--delivered", days_ago(20), "--jurisdiction", "EU",
                "--time-zone", "Europe/Berlin", "--currency", "EUR", "--outbound-shipping", "5.00",
                "--line", "TEE-M:apparel/tops:1:50.00:30.00", "--return", "TEE-M:1",
                "--reason", "changed-mind", "--label-cost", "7.00", env=client)
        cli("returns", "get", "00000000-0000-0000-0000-000000000000", env=client, check=False)
        cli("returns", "list", env=client)
        time.sleep(0.5)
    print(f"workload: {2 * n} returns authorized in {time.time() - started:.0f} s")

    up = get_json(f"{prom_url}/api/v1/targets")["data"]["activeTargets"]
    problems = [f"scrape target {t['scrapeUrl']} is {t['health']}: {t.get('lastError')}" for t in up
                if t["health"] != "up"]
    for group in get_json(f"{prom_url}/api/v1/rules")["data"]["groups"]:
        for rule in group["rules"]:
            if rule["health"] != "ok":
                problems.append(f"rule {rule['name']}: {rule['health']} {rule.get('lastError')}")

    label_values = get_json(f"{prom_url}/api/v1/label/supplier_id/values?"
                            + urllib.parse.urlencode({"match[]": "returnbridge_delivery_attempts_total"}))["data"]
    if not {flaky, down} <= set(label_values):
        problems.append(f"variable supplier: label_values(returnbridge_delivery_attempts_total, supplier_id) "
                        f"is {label_values}, expected both {flaky} and {down}")

    with open(dashboard_path) as f:
        dashboard = json.load(f)
    supplier_regex = f"({flaky}|{down})"
    checked = 0
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"].replace("$supplier", supplier_regex)
            for var, value in SUBSTITUTIONS.items():
                expr = expr.replace(var, value)
            answer = get_json(f"{prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
            result = answer.get("data", {}).get("result", [])
            values = [float(r["value"][1]) for r in result]
            checked += 1
            where = f"panel {panel['title']!r} target {target['refId']}"
            if answer.get("status") != "success":
                problems.append(f"{where}: {answer.get('error')}")
            elif not result:
                problems.append(f"{where}: no data for {expr}")
            elif all(math.isnan(v) for v in values):
                problems.append(f"{where}: only NaN for {expr}")
            else:
                print(f"ok  {where}: {len(result)} series")
    if problems:
        print(f"\n{len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    print(f"every dashboard query answered: {checked} targets of {len(dashboard['panels'])} panels")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
