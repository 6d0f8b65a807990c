//! The supplier gateway. It starts with the endpoint suppliers call back on; the outbox dispatcher,
//! supplier connectors and the SLA clock land here with their issues.

use returnbridge_proto::v1::supplier_callback_service_server::SupplierCallbackService;

/// SupplierCallbackService: suppliers acknowledge, decide and report here. Its handlers are not
/// built yet, so every RPC answers UNIMPLEMENTED (the generated default).
#[derive(Debug, Default, Clone)]
pub struct SupplierCallbacks;

#[tonic::async_trait]
impl SupplierCallbackService for SupplierCallbacks {}
