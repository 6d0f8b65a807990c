"""A supplier's plain HTTP receiver verifying what the real gateway sends with the stock Standard
Webhooks library (`standardwebhooks` on PyPI), unmodified: it creates a webhook supplier pointing at
itself, authorizes a return, and checks the forwarded request's signature, its `webhook-id` (the
request id in `data`) and its body.

The server must allow private destinations (RETURNBRIDGE_GATEWAY__ALLOW_PRIVATE_DESTINATIONS=true):
the receiver listens on loopback.

Usage: python verify_webhook.py HOST:PORT API_KEY
"""

import datetime
import http.server
import queue
import sys
import threading
import uuid

import grpc
from standardwebhooks.webhooks import Webhook

from stock_client import call, pool_for

received = queue.Queue()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        received.put((dict(self.headers.items()), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main(target, key):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/returnbridge"
    metadata = [("authorization", f"Bearer {key}")]
    with grpc.insecure_channel(target) as channel:
        contracts = pool_for(channel, "returnbridge.v1.ContractService")
        returns = pool_for(channel, "returnbridge.v1.ReturnService")
        created = call(channel, contracts, "returnbridge.v1.ContractService/CreateSupplier",
                       {"supplier": {"display_name": "Python Supply", "webhook": {"url": url}}},
                       metadata + [("idempotency-key", str(uuid.uuid4()))])
        supplier = created["supplier"]["supplier_id"]
        secret = created["webhook_signing_secret"]
        call(channel, contracts, "returnbridge.v1.ContractService/PublishContract", {
            "supplier_id": supplier, "effective_from": "2026-01-01T00:00:00Z",
            "terms": {"return_window_days": 30, "defect_window_days": 365, "accepts_no_fault_returns": True,
                      "defect_coverage": "DEFECT_COVERAGE_FULL_RETAIL", "transit_damage_party": "PARTY_CARRIER",
                      "listing_data_owner": "PARTY_SUPPLIER", "no_fault_return_shipping_payer": "PARTY_CUSTOMER",
                      "auto_authorize": True,
                      "sla": {"ack_within": "86400s", "decision_within": "259200s", "credit_within": "1209600s",
                              "breach_action": "SLA_BREACH_ACTION_NOTIFY"}}}, metadata)
        now = datetime.datetime.now(datetime.timezone.utc)
        stamp = lambda days: (now - datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        eur = lambda minor: {"currency_code": "EUR", "amount_minor": minor}
        authorized = call(channel, returns, "returnbridge.v1.ReturnService/AuthorizeReturn", {
            "order": {"order_id": "PY-1", "supplier_id": supplier, "order_time": stamp(13),
                      "delivery_time": stamp(9), "customer_jurisdiction": "EU", "currency_code": "EUR",
                      "outbound_shipping": eur(500),
                      "lines": [{"sku": "TEE-M", "category": "apparel/tops", "quantity": 2,
                                 "unit_price": eur(5000), "unit_cost": eur(3000)}]},
            "items": [{"sku": "TEE-M", "quantity": 2}], "reason": "RETURN_REASON_CHANGED_MIND",
            "label_cost_estimate": eur(700)}, metadata + [("idempotency-key", str(uuid.uuid4()))])
    try:
        headers, body = received.get(timeout=15)
    except queue.Empty:
        print("webhook: nothing arrived within 15 s", file=sys.stderr)
        return 1
    try:
        payload = Webhook(secret).verify(body, headers)
    except Exception as err:  # the library's WebhookVerificationError, or a malformed header
        print(f"webhook: the stock verifier refused it: {err!r}; headers {headers}", file=sys.stderr)
        return 1
    message_id = headers.get("webhook-id") or headers.get("Webhook-Id")
    data = payload.get("data", {})
    problems = []
    if data.get("requestId") != message_id:
        problems.append(f"data.requestId {data.get('requestId')!r} is not webhook-id {message_id!r}")
    if data.get("supplierId") != supplier:
        problems.append(f"data.supplierId {data.get('supplierId')!r} is not {supplier!r}")
    if not str(payload.get("type", "")).startswith("supplier_request."):
        problems.append(f"type {payload.get('type')!r}")
    if "timestamp" not in payload:
        problems.append("no timestamp")
    if problems:
        print("webhook: " + "; ".join(problems), file=sys.stderr)
        return 1
    print(f"webhook: {payload['type']} for return {authorized['return_case']['return_id']} "
          f"verified by standardwebhooks (webhook-id {message_id})")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
