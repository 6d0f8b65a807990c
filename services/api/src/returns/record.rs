//! RecordShipment, RecordReceipt, RecordInspection, CancelReturn and AddEvidence: each checks its
//! input against the return's document and records it, under the row lock.

use super::change::{MAX_SHORT_TEXT, Step, amount, begin, invalid, items, run, when};
use super::document::Actor;
use crate::ApiContext;
use crate::convert::timestamp;
use crate::error::ApiError;
use returnbridge_domain::lifecycle::Transition;
use returnbridge_domain::order::EvidenceUri;
use returnbridge_domain::order_input::{MAX_COMMENT_CHARS, MAX_EVIDENCE};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_store::ReturnRow;
use tonic::Request;

pub(super) async fn record_shipment(
    ctx: &ApiContext,
    request: Request<pb::RecordShipmentRequest>,
) -> Result<pb::RecordShipmentResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(shipment) = req.shipment.clone() else {
        return Err(DomainError::invalid("shipment", "is required").into());
    };
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        v.text("shipment.carrier", &shipment.carrier, MAX_SHORT_TEXT);
        v.text(
            "shipment.tracking_number",
            &shipment.tracking_number,
            MAX_SHORT_TEXT,
        );
        amount(&shipment.label_cost, "shipment.label_cost", doc, &mut v);
        let shipped = when(&shipment.ship_time, "shipment.ship_time", now, &mut v);
        invalid(v)?;
        let recorded = pb::Shipment {
            ship_time: Some(timestamp(shipped)),
            recorded_by: Some(actor.clone()),
            ..shipment.clone()
        };
        if recorded.label_cost.is_some() {
            doc.label_cost = recorded.label_cost.clone();
        }
        doc.shipment = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Ship),
            event_type: pb::ReturnEventType::Shipped,
            detail: Some(pb::return_event::Detail::Shipment(recorded)),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "RecordShipment",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::RecordShipmentResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn record_receipt(
    ctx: &ApiContext,
    request: Request<pb::RecordReceiptRequest>,
) -> Result<pb::RecordReceiptResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let receipt = req.receipt.clone().unwrap_or_default();
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        items(&receipt.items, "receipt.items", doc, &mut v);
        v.text("receipt.note", &receipt.note, MAX_COMMENT_CHARS);
        let received = when(&receipt.receive_time, "receipt.receive_time", now, &mut v);
        invalid(v)?;
        let recorded = pb::Receipt {
            receive_time: Some(timestamp(received)),
            items: if receipt.items.is_empty() {
                doc.items.clone()
            } else {
                receipt.items.clone()
            },
            recorded_by: Some(actor.clone()),
            ..receipt.clone()
        };
        doc.receipt = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Receive),
            event_type: pb::ReturnEventType::Received,
            detail: Some(pb::return_event::Detail::Receipt(recorded)),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "RecordReceipt",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::RecordReceiptResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn record_inspection(
    ctx: &ApiContext,
    request: Request<pb::RecordInspectionRequest>,
) -> Result<pb::RecordInspectionResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(inspection) = req.inspection.clone() else {
        return Err(DomainError::invalid("inspection", "is required").into());
    };
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        v.check(
            !matches!(
                pb::InspectionOutcome::try_from(inspection.outcome),
                Ok(pb::InspectionOutcome::Unspecified) | Err(_)
            ),
            "inspection.outcome",
            "is required: PASSED, DAMAGED_BY_CUSTOMER, MISSING_ORIGINAL_PACKAGING, DEFECT_NOT_FOUND or ITEM_MISMATCH",
        );
        let lines: Vec<_> = inspection
            .items
            .iter()
            .map(|i| pb::ReturnItem {
                sku: i.sku.clone(),
                quantity: i.quantity,
            })
            .collect();
        items(&lines, "inspection.items", doc, &mut v);
        amount(
            &inspection.damage_deduction,
            "inspection.damage_deduction",
            doc,
            &mut v,
        );
        // A deduction above what the goods cost would make every later split impossible, so it is
        // refused here, against the return's own figures, rather than at resolution.
        if let (Some(d), Some(max)) = (&inspection.damage_deduction, returned_price(doc)) {
            v.check(
                d.amount_minor <= max,
                "inspection.damage_deduction.amount_minor",
                format!(
                    "must be at most {max} (minor units), the price of the returned units: a deduction \
                     withholds part of the refund, never more"
                ),
            );
        }
        v.text("inspection.note", &inspection.note, MAX_COMMENT_CHARS);
        v.check(
            inspection.evidence_uris.len() <= MAX_EVIDENCE,
            "inspection.evidence_uris",
            format!("at most {MAX_EVIDENCE} links"),
        );
        for (i, uri) in inspection.evidence_uris.iter().enumerate() {
            v.take(
                &format!("inspection.evidence_uris[{i}]"),
                EvidenceUri::parse(uri),
            );
        }
        let inspected = when(
            &inspection.inspect_time,
            "inspection.inspect_time",
            now,
            &mut v,
        );
        invalid(v)?;
        let recorded = pb::Inspection {
            inspect_time: Some(timestamp(inspected)),
            recorded_by: Some(actor.clone()),
            ..inspection.clone()
        };
        doc.inspection = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Inspect),
            event_type: pb::ReturnEventType::Inspected,
            detail: Some(pb::return_event::Detail::Inspection(recorded)),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "RecordInspection",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::RecordInspectionResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn cancel(
    ctx: &ApiContext,
    request: Request<pb::CancelReturnRequest>,
) -> Result<pb::CancelReturnResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let reason = req.reason.clone();
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        v.check(
            !reason.trim().is_empty(),
            "reason",
            "is required: say why, for the audit trail",
        );
        v.text("reason", &reason, 1000);
        invalid(v)?;
        let recorded = pb::Cancellation {
            reason: reason.clone(),
            cancel_time: Some(timestamp(now)),
            cancelled_by: Some(actor.clone()),
        };
        doc.cancellation = Some(recorded.clone());
        Ok(Step {
            transition: Some(Transition::Cancel),
            event_type: pb::ReturnEventType::Cancelled,
            detail: Some(pb::return_event::Detail::Cancellation(recorded)),
            note: reason.clone(),
            settlement: None,
        })
    };
    let doc = run(
        ctx,
        &call,
        "CancelReturn",
        &req,
        req.expected_version,
        &edit,
    )
    .await?;
    Ok(pb::CancelReturnResponse {
        return_case: Some(doc),
    })
}

pub(super) async fn add_evidence(
    ctx: &ApiContext,
    request: Request<pb::AddEvidenceRequest>,
) -> Result<pb::AddEvidenceResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let actor = Actor::seller(&call.caller).proto;
    let now = call.now;
    let evidence = req.evidence.clone();
    let edit = move |doc: &mut pb::Return, _: &ReturnRow| {
        let mut v = Violations::default();
        v.check(
            !evidence.is_empty(),
            "evidence",
            "must list at least one item",
        );
        v.check(
            doc.evidence.len() + evidence.len() <= MAX_EVIDENCE,
            "evidence",
            format!(
                "a return holds at most {MAX_EVIDENCE} evidence items; it has {}",
                doc.evidence.len()
            ),
        );
        for (i, e) in evidence.iter().enumerate() {
            v.take(&format!("evidence[{i}].uri"), EvidenceUri::parse(&e.uri));
            v.text(format!("evidence[{i}].description"), &e.description, 500);
        }
        invalid(v)?;
        let added: Vec<_> = evidence
            .iter()
            .map(|e| pb::Evidence {
                uri: e.uri.clone(),
                description: e.description.clone(),
                add_time: Some(timestamp(now)),
                added_by: Some(actor.clone()),
            })
            .collect();
        doc.evidence.extend(added.iter().cloned());
        Ok(Step {
            transition: None,
            event_type: pb::ReturnEventType::EvidenceAdded,
            detail: Some(pb::return_event::Detail::Evidence(pb::EvidenceAdded {
                items: added,
            })),
            note: String::new(),
            settlement: None,
        })
    };
    let doc = run(ctx, &call, "AddEvidence", &req, req.expected_version, &edit).await?;
    Ok(pb::AddEvidenceResponse {
        return_case: Some(doc),
    })
}

/// What the customer paid for the units this return sends back, in minor units (`None` on overflow,
/// which the order's own checks make impossible).
fn returned_price(doc: &pb::Return) -> Option<i64> {
    let lines = &doc.order.as_ref()?.lines;
    doc.items.iter().try_fold(0i64, |sum, item| {
        let line = lines.iter().find(|l| l.sku == item.sku)?;
        let price = line.unit_price.as_ref()?.amount_minor;
        sum.checked_add(price.checked_mul(i64::from(item.quantity))?)
    })
}
