//! Services whose handlers are not built yet. The generated default methods answer UNIMPLEMENTED;
//! these types exist so the server registers every v1 service (and reflection lists them) from the
//! start. Each becomes a real module as its issue lands.

use returnbridge_proto::v1::sla_service_server::SlaService;

/// SlaService (supplier SLA reports and analytics).
#[derive(Debug, Default, Clone)]
pub struct SlaApi;

#[tonic::async_trait]
impl SlaService for SlaApi {}
