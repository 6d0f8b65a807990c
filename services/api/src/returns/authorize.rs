//! AuthorizeReturn: decide under the contract in effect when the order was placed, and store the
//! return, its first event and the supplier's message in one transaction.

use super::document::{Actor, event};
use crate::ApiContext;
use crate::contracts::{contract_in_effect, seller_settings};
use crate::convert::returns::{
    decision_to_proto, jurisdiction_to_proto, request_input, status_to_proto,
};
use crate::convert::timestamp;
use crate::error::ApiError;
use crate::idempotency::{Idempotency, try_answer};
use chrono::{DateTime, Utc};
use prost::Message;
use returnbridge_domain::ErrorReason;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::contract::{ContractVersion, SellerSettings};
use returnbridge_domain::decision::{Decision, Outcome, ReasonCode};
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::lifecycle::ReturnStatus;
use returnbridge_domain::order::{OrderFacts, ReturnRequest, ReturnedUnits, Sku};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::{
    Applied, NewOutboxMessage, NewReturn, ReturnRow, ReturnedSoFar, StoreError,
};
use std::sync::Mutex;
use tonic::Request;

/// Longest `external_reference`, in characters.
const MAX_EXTERNAL_REFERENCE: usize = 200;

pub(super) async fn authorize(
    ctx: &ApiContext,
    request: Request<pb::AuthorizeReturnRequest>,
) -> Result<pb::AuthorizeReturnResponse, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsWrite)
        .await?;
    let idempotency = Idempotency::of(
        request.metadata(),
        "AuthorizeReturn",
        request.get_ref(),
        true,
    )?;
    let req = request.into_inner();
    let now = ctx.clock.now();
    let parsed = parse(&req, now)?;
    let order = &parsed.order;
    let contract = contract_for_order(ctx, &caller.tenant, order).await?;
    let (settings, settings_version) = seller_settings(ctx, &caller.tenant).await?;
    let facts = Facts {
        tenant: &caller.tenant,
        request: &parsed,
        raw: &req,
        contract: &contract,
        settings: &settings,
        settings_version,
        actor: Actor::seller(&caller),
        id: ReturnId::generate(),
        request_id: uuid::Uuid::now_v7(),
        now,
        decided: Mutex::new(None),
    };
    let skus: Vec<String> = parsed
        .items
        .iter()
        .map(|i| i.sku.as_str().to_owned())
        .collect();
    let plan = |so_far: &ReturnedSoFar| facts.plan(so_far);
    let encode = |row: &ReturnRow| Ok(respond(row)?.encode_to_vec());
    let applied = ctx
        .store
        .authorize_return(
            &caller.tenant,
            parsed.order.order_id.as_str(),
            &skus,
            &plan,
            now,
            idempotency.claim(&encode),
        )
        .await?;
    ctx.events_written();
    // Counted once committed, and only for a decision made now: a replay decided nothing new, and a
    // transaction the store retried planned more than once.
    if let (Applied::New(_), Some((outcome, reason))) = (&applied, facts.decision_made()) {
        ctx.metrics.record_decision(outcome, reason);
    }
    try_answer(applied, |row| Ok(respond(row)?))
}

fn respond(row: &ReturnRow) -> Result<pb::AuthorizeReturnResponse, StoreError> {
    Ok(pb::AuthorizeReturnResponse {
        return_case: Some(super::document::decode(row)?),
    })
}

/// The contract version in effect when the order was placed. One query answers both: an unknown
/// supplier is NOT_FOUND, a known one without a version then is FAILED_PRECONDITION.
pub(crate) async fn contract_for_order(
    ctx: &ApiContext,
    tenant: &TenantId,
    order: &OrderFacts,
) -> Result<ContractVersion, ApiError> {
    contract_in_effect(ctx, tenant, order.supplier, order.ordered_at)
        .await?
        .ok_or_else(|| {
            DomainError::FailedPrecondition {
                reason: ErrorReason::NoContractInEffect,
                message: format!(
                    "supplier {} has no contract in effect at the order time {}; publish one with \
                     PublishContract (effective_from at or before the order time)",
                    order.supplier,
                    order.ordered_at.to_rfc3339()
                ),
            }
            .into()
        })
}

/// Every field problem at once: the edge's (timestamps, the reference) and the domain's.
pub(crate) fn parse(
    req: &pb::AuthorizeReturnRequest,
    now: DateTime<Utc>,
) -> Result<ReturnRequest, ApiError> {
    let mut v = Violations::default();
    let input = request_input(req, &mut v);
    v.text(
        "external_reference",
        &req.external_reference,
        MAX_EXTERNAL_REFERENCE,
    );
    match input.parse(now) {
        Ok(parsed) if v.is_empty() => Ok(parsed),
        Ok(_) => Err(DomainError::InvalidArgument(v).into()),
        Err(DomainError::InvalidArgument(domain)) => {
            v.append(domain);
            Err(DomainError::InvalidArgument(v).into())
        }
        Err(other) => Err(other.into()),
    }
}

/// Everything the decision and the stored return are made of.
struct Facts<'a> {
    tenant: &'a TenantId,
    request: &'a ReturnRequest,
    raw: &'a pb::AuthorizeReturnRequest,
    contract: &'a ContractVersion,
    settings: &'a SellerSettings,
    settings_version: i64,
    actor: Actor,
    id: ReturnId,
    request_id: uuid::Uuid,
    now: DateTime<Utc>,
    /// The outcome and first reason of the last plan, for the decisions counter.
    decided: Mutex<Option<(Outcome, Option<ReasonCode>)>>,
}

impl Facts<'_> {
    /// The outcome and first reason code of the decision planned, if one was.
    fn decision_made(&self) -> Option<(Outcome, Option<ReasonCode>)> {
        *self
            .decided
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs inside the store's transaction, once the units already returned are read under a lock.
    fn plan(&self, so_far: &ReturnedSoFar) -> Result<NewReturn, StoreError> {
        let already: ReturnedUnits = so_far
            .iter()
            .filter_map(|(sku, n)| Some((Sku::parse(sku).ok()?, u32::try_from(*n).ok()?)))
            .collect();
        let order = &self.request.order;
        let profile = order.jurisdiction.profile();
        let decision = decide(
            self.request,
            &already,
            self.contract,
            profile,
            self.settings,
            self.now,
        );
        let status = match decision.outcome {
            Outcome::Authorized => ReturnStatus::Authorized,
            Outcome::PendingSupplier => ReturnStatus::PendingSupplier,
            Outcome::Rejected => ReturnStatus::Rejected,
        };
        let first_reason = decision.reasons.first().map(|r| r.code);
        *self
            .decided
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) =
            Some((decision.outcome, first_reason));
        let doc = self.document(&decision, status);
        let first = event(
            &doc,
            pb::ReturnEventType::Decided,
            &self.actor,
            Some(ReturnStatus::Requested),
            Some(status),
            self.now,
            String::new(),
            Some(pb::return_event::Detail::Decision(
                doc.decision.clone().unwrap_or_default(),
            )),
        );
        let outbox =
            (status != ReturnStatus::Rejected).then(|| self.supplier_message(&doc, status));
        let reserve = if status == ReturnStatus::Rejected {
            Vec::new()
        } else {
            self.request
                .items
                .iter()
                .map(|i| (i.sku.as_str().to_owned(), i64::from(i.quantity)))
                .collect()
        };
        Ok(NewReturn {
            row: ReturnRow {
                id: self.id,
                supplier: order.supplier,
                order_id: order.order_id.as_str().to_owned(),
                reason: self.request.reason.as_str().to_owned(),
                status,
                version: 1,
                ship_by: awaiting_shipment(&decision, status),
                created_at: self.now,
                updated_at: self.now,
                document: doc.encode_to_vec(),
            },
            event: first,
            outbox,
            reserve,
        })
    }

    fn document(&self, decision: &Decision, status: ReturnStatus) -> pb::Return {
        let order = &self.request.order;
        let deadlines = pb::SupplierDeadlines {
            ack_by: decision.deadlines.supplier_ack_by.map(timestamp),
            decide_by: decision.deadlines.supplier_decide_by.map(timestamp),
            credit_by: None,
        };
        let supplier_requests = if status == ReturnStatus::Rejected {
            Vec::new()
        } else {
            vec![pb::SupplierRequest {
                request_id: self.request_id.to_string(),
                kind: request_kind(status) as i32,
                supplier_id: order.supplier.to_string(),
                state: pb::SupplierRequestState::PendingDelivery as i32,
                deadlines: Some(deadlines),
                create_time: Some(timestamp(self.now)),
                ..Default::default()
            }]
        };
        pb::Return {
            return_id: self.id.to_string(),
            status: status_to_proto(status) as i32,
            version: 1,
            order: self.raw.order.clone(),
            items: self.raw.items.clone(),
            reason: self.raw.reason,
            evidence: self
                .request
                .evidence
                .iter()
                .map(|e| pb::Evidence {
                    uri: e.as_str().to_owned(),
                    description: String::new(),
                    add_time: Some(timestamp(self.now)),
                    added_by: Some(self.actor.proto.clone()),
                })
                .collect(),
            customer_comment: self.raw.customer_comment.clone(),
            external_reference: self.raw.external_reference.clone(),
            label_cost: self.raw.label_cost_estimate.clone(),
            decision: Some(decision_to_proto(
                decision,
                order.jurisdiction,
                self.settings_version,
                self.now,
            )),
            handling_supplier_id: order.supplier.to_string(),
            ship_by: awaiting_shipment(decision, status).map(timestamp),
            supplier_requests,
            create_time: Some(timestamp(self.now)),
            update_time: Some(timestamp(self.now)),
            close_time: status.is_terminal().then(|| timestamp(self.now)),
            ..Default::default()
        }
    }

    /// The message the gateway forwards: a notice of an authorized return, or a request to decide.
    fn supplier_message(&self, doc: &pb::Return, status: ReturnStatus) -> NewOutboxMessage {
        let order = &self.request.order;
        let kind = request_kind(status);
        let message = pb::ReceiveReturnRequestRequest {
            request_id: self.request_id.to_string(),
            kind: kind as i32,
            attempt: 0,
            send_time: None,
            seller_id: self.tenant.to_string(),
            supplier_id: order.supplier.to_string(),
            supplier_return: Some(supplier_view(doc, self.request)),
            deadlines: doc.supplier_requests.first().and_then(|r| r.deadlines),
            credit_requested: None,
            trigger_event: pb::ReturnEventType::Decided as i32,
            failover: false,
            failed_over_from_supplier_id: String::new(),
            contract_version: self.contract.version,
        };
        NewOutboxMessage {
            message_id: self.request_id,
            supplier: order.supplier,
            kind: kind
                .as_str_name()
                .trim_start_matches("SUPPLIER_REQUEST_KIND_")
                .to_owned(),
            payload: message.encode_to_vec(),
            available_at: self.now,
        }
    }
}

fn request_kind(status: ReturnStatus) -> pb::SupplierRequestKind {
    if status == ReturnStatus::PendingSupplier {
        pb::SupplierRequestKind::AuthorizationRequest
    } else {
        pb::SupplierRequestKind::Notice
    }
}

/// The ship-by deadline the expiry sweep watches: only authorized returns whose goods must come back.
fn awaiting_shipment(decision: &Decision, status: ReturnStatus) -> Option<DateTime<Utc>> {
    (status == ReturnStatus::Authorized && decision.return_required)
        .then_some(decision.deadlines.customer_ship_by)
        .flatten()
}

/// What the supplier sees: its own costs, never the seller's retail prices.
fn supplier_view(doc: &pb::Return, request: &ReturnRequest) -> pb::SupplierReturn {
    let order = &request.order;
    pb::SupplierReturn {
        return_id: doc.return_id.clone(),
        status: doc.status,
        order_id: order.order_id.as_str().to_owned(),
        order_time: Some(timestamp(order.ordered_at)),
        delivery_time: Some(timestamp(order.delivered_at)),
        customer_jurisdiction: jurisdiction_to_proto(order.jurisdiction) as i32,
        reason: doc.reason,
        items: request
            .items
            .iter()
            .filter_map(|i| {
                let line = order.line(&i.sku)?;
                Some(pb::SupplierReturnItem {
                    sku: i.sku.as_str().to_owned(),
                    category: line.category.as_str().to_owned(),
                    quantity: i32::try_from(i.quantity).unwrap_or(i32::MAX),
                    quantity_ordered: i32::try_from(line.quantity).unwrap_or(i32::MAX),
                    unit_cost: Some(crate::convert::money_to_proto(line.unit_cost)),
                })
            })
            .collect(),
        evidence_uris: request
            .evidence
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        customer_comment: request.customer_comment.clone().unwrap_or_default(),
        decision: doc.decision.clone(),
        ship_by: doc.ship_by,
        shipment: None,
        receipt: None,
        inspection: None,
        currency_code: order.currency.code().to_owned(),
    }
}
