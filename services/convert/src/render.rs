//! How the return use cases' events and supplier messages are encoded: as v1 messages.

use crate::return_view::{event_to_proto, supplier_request, supplier_view};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_core::returns::Render;
use returnbridge_domain::ids::TenantId;
use returnbridge_domain::returns::{Return, ReturnEvent, SupplierRequest};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{NewEvent, NewOutboxMessage};

/// Events as `ReturnEvent`, supplier messages as `ReceiveReturnRequestRequest`.
pub struct ProtoRender;

impl Render for ProtoRender {
    fn event(&self, ret: &Return, event: &ReturnEvent) -> NewEvent {
        NewEvent {
            event_type: event.kind.as_str().to_owned(),
            actor: event.actor.label(),
            from_status: Some(event.from),
            to_status: Some(event.to),
            occurred_at: event.at,
            detail: event_to_proto(ret, event).encode_to_vec(),
        }
    }

    fn supplier_message(
        &self,
        tenant: &TenantId,
        ret: &Return,
        request: &SupplierRequest,
        now: DateTime<Utc>,
    ) -> NewOutboxMessage {
        let shown = supplier_request(request);
        // A failover's request names the supplier it was taken from: the one before it.
        let failed_over_from = ret
            .supplier_requests
            .iter()
            .rev()
            .skip_while(|r| r.id != request.id)
            .nth(1)
            .filter(|_| request.failover)
            .map(|r| r.supplier.to_string())
            .unwrap_or_default();
        let message = pb::ReceiveReturnRequestRequest {
            request_id: request.id.to_string(),
            kind: shown.kind,
            attempt: 0,
            send_time: None,
            seller_id: tenant.to_string(),
            supplier_id: request.supplier.to_string(),
            supplier_return: Some(supplier_view(ret)),
            deadlines: shown.deadlines,
            credit_requested: None,
            trigger_event: if request.failover {
                pb::ReturnEventType::FailedOver
            } else {
                pb::ReturnEventType::Decided
            } as i32,
            failover: request.failover,
            failed_over_from_supplier_id: failed_over_from,
            contract_version: ret.decision.contract_version,
        };
        NewOutboxMessage {
            message_id: request.id,
            supplier: request.supplier,
            kind: request.kind.as_str().to_owned(),
            payload: message.encode_to_vec(),
            available_at: now,
        }
    }
}
