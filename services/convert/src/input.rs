//! Records sent to change a return (receipts, inspections, amounts, lines, instants), read into the
//! domain's. Checks against the return's own facts are the return's; these check the fields alone.

use crate::contract::instant;
use crate::error::ApiError;
use crate::money_input;
use chrono::{DateTime, Utc};
use returnbridge_domain::Violations;
use returnbridge_domain::currency::Currency;
use returnbridge_domain::ids::ReturnId;
use returnbridge_domain::money::Money;
use returnbridge_domain::order::{EvidenceUri, ReturnItem, Sku};
use returnbridge_domain::order_input::{MAX_CLOCK_SKEW, MAX_COMMENT_CHARS, MAX_EVIDENCE};
use returnbridge_domain::returns::{
    Actor, InspectedItem, InspectionOutcome, InspectionReport, Receipt,
};
use returnbridge_proto::v1 as pb;

/// A return id the request names in `field`.
pub fn return_id(raw: &str, field: &str) -> Result<ReturnId, ApiError> {
    let mut v = Violations::default();
    let id = if raw.is_empty() {
        v.add(field, "is required");
        None
    } else {
        v.take(field, ReturnId::parse(raw))
    };
    Ok(v.finish_with(id, field)?)
}

/// Longest carrier name, tracking number or credit reference.
pub const MAX_SHORT_TEXT: usize = 100;

/// An optional instant of the request, defaulting to now and never in the future.
pub fn when(
    t: &Option<prost_types::Timestamp>,
    field: &str,
    now: DateTime<Utc>,
    v: &mut Violations,
) -> DateTime<Utc> {
    match t.as_ref().and_then(|t| instant(t, field, v)) {
        Some(at) if at > now + MAX_CLOCK_SKEW => {
            v.add(field, "lies in the future; send the instant it happened");
            now
        }
        Some(at) => at,
        None => now,
    }
}

/// An optional amount of the request; the return checks its currency and sign.
pub fn amount(m: &Option<pb::Money>, field: &str, v: &mut Violations) -> Option<Money> {
    let input = money_input(m.as_ref()?);
    let currency = v.take(
        &format!("{field}.currency_code"),
        Currency::parse(&input.currency),
    )?;
    Some(Money::new(currency, input.amount_minor))
}

/// Lines of the request; the return checks them against its own.
pub fn items(items: &[pb::ReturnItem], field: &str, v: &mut Violations) -> Vec<ReturnItem> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let sku = v.take(&format!("{field}[{i}].sku"), Sku::parse(&item.sku))?;
            // Out of range is the return's to say, with the units it holds; 0 is out of range.
            Some(ReturnItem {
                sku,
                quantity: u32::try_from(item.quantity).unwrap_or(0),
            })
        })
        .collect()
}

/// A proto inspection outcome as the domain's; `None` for UNSPECIFIED or an unknown number.
pub fn inspection_outcome(raw: i32) -> Option<InspectionOutcome> {
    let name = pb::InspectionOutcome::try_from(raw).ok()?.as_str_name();
    InspectionOutcome::parse(name.strip_prefix("INSPECTION_OUTCOME_")?).ok()
}

/// A receipt as sent (fields under `field`), recorded by `by`.
pub fn receipt(
    sent: &pb::Receipt,
    field: &str,
    by: Actor,
    now: DateTime<Utc>,
    v: &mut Violations,
) -> Receipt {
    v.text(format!("{field}.note"), &sent.note, MAX_COMMENT_CHARS);
    Receipt {
        items: items(&sent.items, &format!("{field}.items"), v),
        received_at: when(&sent.receive_time, &format!("{field}.receive_time"), now, v),
        note: sent.note.clone(),
        recorded_by: by,
    }
}

/// An inspection report as sent (fields under `field`), recorded by `by`; `None` without an
/// outcome (a violation says so).
pub fn inspection(
    sent: &pb::Inspection,
    field: &str,
    by: Actor,
    now: DateTime<Utc>,
    v: &mut Violations,
) -> Option<InspectionReport> {
    let f = |name: &str| format!("{field}.{name}");
    let whole = inspection_outcome(sent.outcome);
    v.check(
        whole.is_some(),
        f("outcome"),
        "is required: PASSED, DAMAGED_BY_CUSTOMER, MISSING_ORIGINAL_PACKAGING, DEFECT_NOT_FOUND or ITEM_MISMATCH",
    );
    let lines = sent
        .items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            let sku = v.take(&format!("{}[{i}].sku", f("items")), Sku::parse(&item.sku))?;
            Some(InspectedItem {
                sku,
                quantity: u32::try_from(item.quantity).unwrap_or(0),
                outcome: inspection_outcome(item.outcome),
            })
        })
        .collect();
    let deduction = amount(&sent.damage_deduction, &f("damage_deduction"), v);
    v.text(f("note"), &sent.note, MAX_COMMENT_CHARS);
    v.check(
        sent.evidence_uris.len() <= MAX_EVIDENCE,
        f("evidence_uris"),
        format!("at most {MAX_EVIDENCE} links"),
    );
    let evidence = sent
        .evidence_uris
        .iter()
        .enumerate()
        .filter_map(|(i, uri)| {
            v.take(
                &format!("{}[{i}]", f("evidence_uris")),
                EvidenceUri::parse(uri),
            )
        })
        .collect();
    let inspected_at = when(&sent.inspect_time, &f("inspect_time"), now, v);
    whole.map(|outcome| InspectionReport {
        outcome,
        items: lines,
        damage_deduction: deduction,
        note: sent.note.clone(),
        evidence,
        inspected_at,
        recorded_by: by,
    })
}
