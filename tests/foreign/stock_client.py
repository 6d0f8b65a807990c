"""A stock Python grpcio client against a running Returnbridge, knowing nothing but what server
reflection tells it: health answers SERVING, reflection (v1alpha, the only version grpcio-reflection
speaks) lists every returnbridge.v1 service, and, given an API key, the README's tour requests
(proto3 JSON, built into messages from the reflected descriptors) create a supplier, publish a
contract and authorize a return; a request with 200 bad order lines then answers INVALID_ARGUMENT
with readable field violations (not RESOURCE_EXHAUSTED for oversized trailers).

Usage: python stock_client.py HOST:PORT [API_KEY]
"""

import datetime
import json
import sys
import uuid

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status
from google.rpc import error_details_pb2

EXPECTED = {
    "grpc.health.v1.Health",
    "returnbridge.v1.ContractService",
    "returnbridge.v1.ReturnService",
    "returnbridge.v1.LiabilityService",
    "returnbridge.v1.SlaService",
    "returnbridge.v1.DeliveryService",
    "returnbridge.v1.SupplierCallbackService",
}


def reflect(channel, request):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    return next(stub.ServerReflectionInfo(iter([request]), timeout=5))


def pool_for(channel, service):
    """Every file the service needs, fetched by reflection, in a fresh descriptor pool."""
    response = reflect(channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=service))
    files = {}
    for raw in response.file_descriptor_response.file_descriptor_proto:
        f = descriptor_pb2.FileDescriptorProto.FromString(raw)
        files[f.name] = f
    pool = descriptor_pool.DescriptorPool()
    added = set()

    def add(name):
        if name in added:
            return
        if name not in files:
            more = reflect(channel, reflection_pb2.ServerReflectionRequest(file_by_filename=name))
            for raw in more.file_descriptor_response.file_descriptor_proto:
                f = descriptor_pb2.FileDescriptorProto.FromString(raw)
                files.setdefault(f.name, f)
        for dep in files[name].dependency:
            add(dep)
        pool.Add(files[name])
        added.add(name)

    for name in list(files):
        add(name)
    return pool


def call(channel, pool, method, body, metadata):
    service, rpc = method.rsplit("/", 1)
    m = pool.FindServiceByName(service).FindMethodByName(rpc)
    request_class = message_factory.GetMessageClass(m.input_type)
    response_class = message_factory.GetMessageClass(m.output_type)
    request = json_format.Parse(json.dumps(body), request_class())
    stub = channel.unary_unary(
        f"/{service}/{rpc}",
        request_serializer=lambda r: r.SerializeToString(),
        response_deserializer=response_class.FromString,
    )
    return json_format.MessageToDict(stub(request, metadata=metadata, timeout=10), preserving_proto_field_name=True)


def tour(channel, key):
    metadata = [("authorization", f"Bearer {key}")]
    contracts = pool_for(channel, "returnbridge.v1.ContractService")
    returns = pool_for(channel, "returnbridge.v1.ReturnService")
    supplier = call(channel, contracts, "returnbridge.v1.ContractService/CreateSupplier",
                    {"supplier": {"display_name": "Globex Parts", "grpc": {"endpoint": "https://inbox.globex.example"}}},
                    metadata + [("idempotency-key", str(uuid.uuid4()))])["supplier"]["supplier_id"]
    call(channel, contracts, "returnbridge.v1.ContractService/PublishContract", {
        "supplier_id": supplier, "effective_from": "2026-01-01T00:00:00Z",
        "terms": {"return_window_days": 30, "defect_window_days": 365, "accepts_no_fault_returns": True,
                  "supplier_restocking_fee_bps": 1000, "defect_coverage": "DEFECT_COVERAGE_FULL_RETAIL",
                  "transit_damage_party": "PARTY_CARRIER", "listing_data_owner": "PARTY_SUPPLIER",
                  "no_fault_return_shipping_payer": "PARTY_CUSTOMER", "auto_authorize": True,
                  "sla": {"ack_within": "86400s", "decision_within": "259200s", "credit_within": "1209600s",
                          "breach_action": "SLA_BREACH_ACTION_NOTIFY"}}}, metadata)
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp = lambda days: (now - datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    eur = lambda minor: {"currency_code": "EUR", "amount_minor": minor}
    authorized = call(channel, returns, "returnbridge.v1.ReturnService/AuthorizeReturn", {
        "order": {"order_id": "1001", "supplier_id": supplier, "order_time": stamp(13),
                  "delivery_time": stamp(9), "customer_jurisdiction": "EU", "currency_code": "EUR",
                  "outbound_shipping": eur(500),
                  "lines": [{"sku": "TEE-M", "category": "apparel/tops", "quantity": 2,
                             "unit_price": eur(5000), "unit_cost": eur(3000)}]},
        "items": [{"sku": "TEE-M", "quantity": 2}], "reason": "RETURN_REASON_CHANGED_MIND",
        "label_cost_estimate": eur(700)}, metadata + [("idempotency-key", str(uuid.uuid4()))])
    status = authorized["return_case"]["status"]
    if status != "RETURN_STATUS_AUTHORIZED":
        print(f"tour: expected an authorized return, got {status}: {authorized}", file=sys.stderr)
        return 1
    print(f"tour: return {authorized['return_case']['return_id']} {status}")
    return many_bad_lines(channel, returns, metadata, supplier, stamp)


def many_bad_lines(channel, returns, metadata, supplier, stamp):
    bad_line = lambda i: {"sku": f"SKU-{i}", "category": "Not A Slug!", "quantity": 0}
    try:
        call(channel, returns, "returnbridge.v1.ReturnService/AuthorizeReturn", {
            "order": {"order_id": "1002", "supplier_id": supplier, "order_time": stamp(13),
                      "delivery_time": stamp(9), "customer_jurisdiction": "EU", "currency_code": "EUR",
                      "lines": [bad_line(i) for i in range(200)]},
            "items": [{"sku": "SKU-0", "quantity": 1}], "reason": "RETURN_REASON_CHANGED_MIND"},
            metadata + [("idempotency-key", str(uuid.uuid4()))])
    except grpc.RpcError as err:
        if err.code() != grpc.StatusCode.INVALID_ARGUMENT:
            print(f"bad lines: expected INVALID_ARGUMENT, got {err.code()}: {err.details()}", file=sys.stderr)
            return 1
        status = rpc_status.from_call(err)
        violations = []
        for detail in status.details if status else []:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                violations = [v.field for v in bad_request.field_violations]
        if not violations or not violations[0].startswith("order.lines[0]"):
            print(f"bad lines: no readable field violations: {violations[:3]}", file=sys.stderr)
            return 1
        print(f"bad lines: INVALID_ARGUMENT, {len(violations)} field violations in the details, "
              f"message {len(err.details())} characters")
        return 0
    print("bad lines: expected INVALID_ARGUMENT, the call succeeded", file=sys.stderr)
    return 1


def main(target, key=None):
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status
        if status != health_pb2.HealthCheckResponse.SERVING:
            print(f"health: expected SERVING, got {status}", file=sys.stderr)
            return 1
        response = reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
        names = {s.name for s in response.list_services_response.service}
        missing = EXPECTED - names
        if missing:
            print(f"reflection: missing {sorted(missing)}; listed {sorted(names)}", file=sys.stderr)
            return 1
        print(f"health SERVING; reflection lists {len(names)} services")
        return tour(channel, key) if key else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
