//! The simulator as a `SupplierInbox` gRPC server (`--grpc`): the same requests as webhooks, without
//! signatures (the endpoint's TLS is what a real supplier relies on); a failed delivery is
//! UNAVAILABLE, a hung one never returns.

use super::supplier::{Reception, Supplier};
use anyhow::Context;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_inbox_server::{SupplierInbox, SupplierInboxServer};
use std::sync::Arc;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status};

/// Serves `SupplierInbox` on `listener` until the process stops.
pub async fn serve(listener: TcpListener, supplier: Arc<Supplier>) -> anyhow::Result<()> {
    tonic::transport::Server::builder()
        .add_service(SupplierInboxServer::new(Inbox { supplier }))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await
        .context("serving SupplierInbox")
}

struct Inbox {
    supplier: Arc<Supplier>,
}

#[tonic::async_trait]
impl SupplierInbox for Inbox {
    async fn receive_return_request(
        &self,
        request: Request<pb::ReceiveReturnRequestRequest>,
    ) -> Result<Response<pb::ReceiveReturnRequestResponse>, Status> {
        match self.supplier.receive(request.into_inner()) {
            // Acknowledged through the callbacks, like a webhook supplier, so both modes answer alike.
            Reception::Taken | Reception::Repeat => {
                Ok(Response::new(pb::ReceiveReturnRequestResponse {
                    acknowledged: false,
                }))
            }
            Reception::Fail => Err(Status::unavailable(
                "supplier-sim failed this delivery on purpose (--fail-rate)",
            )),
            Reception::Hang => std::future::pending().await,
        }
    }
}
