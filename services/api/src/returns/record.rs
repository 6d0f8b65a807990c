//! RecordShipment, RecordReceipt, RecordInspection, CancelReturn and AddEvidence: each reads its
//! request into the domain's record, and the return checks it against its own facts and records it,
//! under the row lock.

use super::change::{MAX_SHORT_TEXT, amount, begin, items, run, when};
use super::document::seller;
use crate::ApiContext;
use crate::error::ApiError;
use returnbridge_domain::order::{EvidenceUri, Sku};
use returnbridge_domain::order_input::{MAX_COMMENT_CHARS, MAX_EVIDENCE};
use returnbridge_domain::returns::{
    Cancellation, Evidence, InspectedItem, InspectionOutcome, InspectionReport, Receipt, Return,
    Shipment,
};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use tonic::Request;

/// A proto inspection outcome as the domain's; `None` for UNSPECIFIED or an unknown number.
fn outcome(raw: i32) -> Option<InspectionOutcome> {
    let name = pb::InspectionOutcome::try_from(raw).ok()?.as_str_name();
    InspectionOutcome::parse(name.strip_prefix("INSPECTION_OUTCOME_")?).ok()
}

pub(super) async fn record_shipment(
    ctx: &ApiContext,
    request: Request<pb::RecordShipmentRequest>,
) -> Result<pb::RecordShipmentResponse, ApiError> {
    let call = begin(ctx, &request, &request.get_ref().return_id).await?;
    let req = request.into_inner();
    let Some(sent) = &req.shipment else {
        return Err(DomainError::invalid("shipment", "is required").into());
    };
    let mut v = Violations::default();
    v.text("shipment.carrier", &sent.carrier, MAX_SHORT_TEXT);
    v.text(
        "shipment.tracking_number",
        &sent.tracking_number,
        MAX_SHORT_TEXT,
    );
    let shipment = Shipment {
        carrier: sent.carrier.clone(),
        tracking_number: sent.tracking_number.clone(),
        label_cost: amount(&sent.label_cost, "shipment.label_cost", &mut v),
        shipped_at: when(&sent.ship_time, "shipment.ship_time", call.now, &mut v),
        recorded_by: seller(&call.caller),
    };
    v.finish()?;
    let now = call.now;
    let edit = |ret: &mut Return| Ok(ret.ship(shipment.clone(), now)?.into());
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
    let sent = req.receipt.clone().unwrap_or_default();
    let mut v = Violations::default();
    v.text("receipt.note", &sent.note, MAX_COMMENT_CHARS);
    let receipt = Receipt {
        items: items(&sent.items, "receipt.items", &mut v),
        received_at: when(&sent.receive_time, "receipt.receive_time", call.now, &mut v),
        note: sent.note.clone(),
        recorded_by: seller(&call.caller),
    };
    v.finish()?;
    let now = call.now;
    let edit = |ret: &mut Return| Ok(ret.receive(receipt.clone(), now)?.into());
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
    let Some(sent) = &req.inspection else {
        return Err(DomainError::invalid("inspection", "is required").into());
    };
    let mut v = Violations::default();
    let whole = outcome(sent.outcome);
    v.check(
        whole.is_some(),
        "inspection.outcome",
        "is required: PASSED, DAMAGED_BY_CUSTOMER, MISSING_ORIGINAL_PACKAGING, DEFECT_NOT_FOUND or ITEM_MISMATCH",
    );
    let lines = sent
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let sku = v.take(&format!("inspection.items[{i}].sku"), Sku::parse(&item.sku))?;
            Some(InspectedItem {
                sku,
                quantity: u32::try_from(item.quantity).unwrap_or(0),
                outcome: outcome(item.outcome),
            })
        })
        .collect();
    let deduction = amount(
        &sent.damage_deduction,
        "inspection.damage_deduction",
        &mut v,
    );
    v.text("inspection.note", &sent.note, MAX_COMMENT_CHARS);
    v.check(
        sent.evidence_uris.len() <= MAX_EVIDENCE,
        "inspection.evidence_uris",
        format!("at most {MAX_EVIDENCE} links"),
    );
    let evidence = sent
        .evidence_uris
        .iter()
        .enumerate()
        .filter_map(|(i, uri)| {
            v.take(
                &format!("inspection.evidence_uris[{i}]"),
                EvidenceUri::parse(uri),
            )
        })
        .collect();
    let inspected_at = when(
        &sent.inspect_time,
        "inspection.inspect_time",
        call.now,
        &mut v,
    );
    let report = whole.map(|outcome| InspectionReport {
        outcome,
        items: lines,
        damage_deduction: deduction,
        note: sent.note.clone(),
        evidence,
        inspected_at,
        recorded_by: seller(&call.caller),
    });
    let report = v.finish_with(report, "inspection.outcome")?;
    let now = call.now;
    let edit = |ret: &mut Return| Ok(ret.inspect(report.clone(), now)?.into());
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
    let mut v = Violations::default();
    v.check(
        !req.reason.trim().is_empty(),
        "reason",
        "is required: say why, for the audit trail",
    );
    v.text("reason", &req.reason, 1000);
    v.finish()?;
    let cancellation = Cancellation {
        reason: req.reason.clone(),
        cancelled_at: call.now,
        cancelled_by: seller(&call.caller),
    };
    let edit = |ret: &mut Return| Ok(ret.cancel(cancellation.clone())?.into());
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
    let mut v = Violations::default();
    v.check(
        !req.evidence.is_empty(),
        "evidence",
        "must list at least one item",
    );
    let actor = seller(&call.caller);
    let added: Vec<Evidence> = req
        .evidence
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            v.text(format!("evidence[{i}].description"), &e.description, 500);
            Some(Evidence {
                uri: v.take(&format!("evidence[{i}].uri"), EvidenceUri::parse(&e.uri))?,
                description: e.description.clone(),
                added_at: call.now,
                added_by: actor.clone(),
            })
        })
        .collect();
    v.finish()?;
    let now = call.now;
    let edit = |ret: &mut Return| Ok(ret.add_evidence(added.clone(), &actor, now)?.into());
    let doc = run(ctx, &call, "AddEvidence", &req, req.expected_version, &edit).await?;
    Ok(pb::AddEvidenceResponse {
        return_case: Some(doc),
    })
}
