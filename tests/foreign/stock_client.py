"""A stock Python grpcio client against a running Returnbridge: health answers SERVING and server
reflection (v1alpha, the only version grpcio-reflection speaks) lists every returnbridge.v1 service.

Usage: python stock_client.py HOST:PORT
"""

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

EXPECTED = {
    "grpc.health.v1.Health",
    "returnbridge.v1.ContractService",
    "returnbridge.v1.ReturnService",
    "returnbridge.v1.LiabilityService",
    "returnbridge.v1.SlaService",
    "returnbridge.v1.SupplierCallbackService",
    "returnbridge.v1.SupplierInbox",
}


def main(target: str) -> int:
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=10)
        health = health_pb2_grpc.HealthStub(channel)
        status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5).status
        if status != health_pb2.HealthCheckResponse.SERVING:
            print(f"health: expected SERVING, got {status}", file=sys.stderr)
            return 1
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        response = next(reflection.ServerReflectionInfo(iter([request]), timeout=5))
        names = {s.name for s in response.list_services_response.service}
        missing = EXPECTED - names
        if missing:
            print(f"reflection: missing {sorted(missing)}; listed {sorted(names)}", file=sys.stderr)
            return 1
        print(f"health SERVING; reflection lists {len(names)} services")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
