//! RecordShipment, RecordReceipt, RecordInspection, CancelReturn and AddEvidence: each reads its
//! request into the domain's record, and the return checks it against its own facts and records it,
//! under the row lock.

use super::change::{MAX_SHORT_TEXT, amount, begin, run, when};
use super::document::seller;
use crate::ApiContext;
use crate::error::ApiError;
use returnbridge_convert::input;
use returnbridge_domain::order::EvidenceUri;
use returnbridge_domain::returns::{Cancellation, Evidence, Return, Shipment};
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use tonic::Request;

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
    let receipt = input::receipt(&sent, "receipt", seller(&call.caller), call.now, &mut v);
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
    let report = input::inspection(sent, "inspection", seller(&call.caller), call.now, &mut v);
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
