//! Contract terms and versions: proto <-> domain, and the stored document (the encoded v1
//! `ContractTerms`) back into the domain.

use super::{money_input, money_to_proto, timestamp};
use chrono::{DateTime, TimeDelta, Utc};
use prost::Message;
use returnbridge_domain::Violations;
use returnbridge_domain::contract::{
    BreachAction, ContractTerms, ContractVersion, DefectCoverage, ListingDataOwner, ShippingPayer,
    SlaTerms, TransitDamageParty,
};
use returnbridge_domain::contract_input::{ContractTermsInput, SlaTermsInput};
use returnbridge_domain::order::ReturnReason;
use returnbridge_proto::v1 as pb;
use returnbridge_store::{StoreError, StoredContract};

/// A proto duration as a domain one. One protobuf itself refuses (out of its range, nanos above
/// 999,999,999 or of the other sign than seconds) becomes `TimeDelta::MIN`, and one within it but
/// too large for the domain saturates: either way the domain's bounds refuse it by name.
pub fn delta(d: &prost_types::Duration) -> TimeDelta {
    if invalid_duration(d) {
        return TimeDelta::MIN;
    }
    TimeDelta::try_seconds(d.seconds)
        .and_then(|s| s.checked_add(&TimeDelta::nanoseconds(i64::from(d.nanos))))
        .unwrap_or(TimeDelta::MAX)
}

/// A domain duration as a proto one.
pub fn duration(d: TimeDelta) -> prost_types::Duration {
    prost_types::Duration {
        seconds: d.num_seconds(),
        nanos: d.subsec_nanos(),
    }
}

/// The first and last second protobuf's `Timestamp` admits: 0001-01-01T00:00:00Z and
/// 9999-12-31T23:59:59Z. Bounding every instant here keeps the stores' encodings (fixed-width text on
/// SQLite, `timestamptz` on PostgreSQL) able to hold and order everything the edge lets in.
const TIMESTAMP_SECONDS: std::ops::RangeInclusive<i64> = -62_135_596_800..=253_402_300_799;

/// protobuf's `Duration` range: about 10,000 years either way.
const DURATION_SECONDS: std::ops::RangeInclusive<i64> = -315_576_000_000..=315_576_000_000;

/// A proto timestamp as an instant, or a violation of `field` when it is outside protobuf's own range
/// (years 1 to 9999, nanos 0 to 999,999,999).
pub fn instant(
    t: &prost_types::Timestamp,
    field: &str,
    v: &mut Violations,
) -> Option<DateTime<Utc>> {
    let parsed = Some(t)
        .filter(|t| TIMESTAMP_SECONDS.contains(&t.seconds) && (0..1_000_000_000).contains(&t.nanos))
        .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos as u32));
    if parsed.is_none() {
        v.add(
            field,
            "is not a valid timestamp: years 1 to 9999, nanos 0 to 999999999",
        );
    }
    parsed
}

/// Longest period a statement or a sales record covers.
pub const MAX_PERIOD: TimeDelta = TimeDelta::days(366);

/// A required period under `field` (`period`, `records[3].period`): both bounds, start before end,
/// at most [`MAX_PERIOD`] long; a violation otherwise.
pub fn period(
    range: Option<&pb::TimeRange>,
    field: &str,
    v: &mut Violations,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let bound = |t: Option<&prost_types::Timestamp>, name: &str, v: &mut Violations| {
        t.and_then(|t| instant(t, &format!("{field}.{name}"), v))
    };
    let start = bound(range.and_then(|r| r.start_time.as_ref()), "start_time", v);
    let end = bound(range.and_then(|r| r.end_time.as_ref()), "end_time", v);
    match (start, end) {
        (Some(s), Some(e)) if s < e && e - s <= MAX_PERIOD => Some((s, e)),
        (Some(s), Some(e)) if s < e => {
            v.add(field, "must cover at most 366 days");
            None
        }
        (Some(_), Some(_)) => {
            v.add(field, "start_time must be before end_time");
            None
        }
        _ => {
            v.add(field, "needs start_time and end_time");
            None
        }
    }
}

/// Whether a proto duration breaks protobuf's own rules: its range, nanos at most 999,999,999 in
/// magnitude and of the same sign as seconds.
fn invalid_duration(d: &prost_types::Duration) -> bool {
    let sign_ok = d.seconds == 0 || d.nanos == 0 || (d.seconds > 0) == (d.nanos > 0);
    !DURATION_SECONDS.contains(&d.seconds)
        || !(-999_999_999..=999_999_999).contains(&d.nanos)
        || !sign_ok
}

/// A proto reason as the domain's; `None` for UNSPECIFIED or an unknown number.
pub fn reason_from_proto(raw: i32) -> Option<ReturnReason> {
    use pb::ReturnReason as R;
    Some(match R::try_from(raw).ok()? {
        R::Unspecified => return None,
        R::Defective => ReturnReason::Defective,
        R::WrongItem => ReturnReason::WrongItem,
        R::MissingParts => ReturnReason::MissingParts,
        R::DamagedInTransit => ReturnReason::DamagedInTransit,
        R::NotAsDescribed => ReturnReason::NotAsDescribed,
        R::LateDelivery => ReturnReason::LateDelivery,
        R::ChangedMind => ReturnReason::ChangedMind,
        R::SizeFit => ReturnReason::SizeFit,
    })
}

/// The domain's reason as the proto enum.
pub fn reason_to_proto(r: ReturnReason) -> pb::ReturnReason {
    use pb::ReturnReason as R;
    match r {
        ReturnReason::Defective => R::Defective,
        ReturnReason::WrongItem => R::WrongItem,
        ReturnReason::MissingParts => R::MissingParts,
        ReturnReason::DamagedInTransit => R::DamagedInTransit,
        ReturnReason::NotAsDescribed => R::NotAsDescribed,
        ReturnReason::LateDelivery => R::LateDelivery,
        ReturnReason::ChangedMind => R::ChangedMind,
        ReturnReason::SizeFit => R::SizeFit,
    }
}

fn party(raw: i32) -> Option<pb::Party> {
    pb::Party::try_from(raw).ok()
}

/// The terms as sent, for the domain to check. Values the domain cannot hold (an unspecified enum, a
/// party that makes no sense for the term) arrive as `None`, which it reports as required.
pub fn terms_input(t: &pb::ContractTerms) -> ContractTermsInput {
    ContractTermsInput {
        return_window_days: i64::from(t.return_window_days),
        defect_window_days: i64::from(t.defect_window_days),
        non_returnable_categories: t.non_returnable_categories.clone(),
        evidence_required_reasons: t
            .evidence_required_reasons
            .iter()
            .map(|r| reason_from_proto(*r))
            .collect(),
        requires_original_packaging: t.requires_original_packaging,
        accepts_no_fault_returns: t.accepts_no_fault_returns,
        supplier_restocking_fee_bps: i64::from(t.supplier_restocking_fee_bps),
        defect_coverage: match pb::DefectCoverage::try_from(t.defect_coverage) {
            Ok(pb::DefectCoverage::FullRetail) => Some(DefectCoverage::FullRetail),
            Ok(pb::DefectCoverage::Wholesale) => Some(DefectCoverage::Wholesale),
            _ => None,
        },
        transit_damage_party: match party(t.transit_damage_party) {
            Some(pb::Party::Supplier) => Some(TransitDamageParty::Supplier),
            Some(pb::Party::Carrier) => Some(TransitDamageParty::Carrier),
            Some(pb::Party::Seller) => Some(TransitDamageParty::Seller),
            _ => None,
        },
        listing_data_owner: match party(t.listing_data_owner) {
            Some(pb::Party::Supplier) => Some(ListingDataOwner::Supplier),
            Some(pb::Party::Seller) => Some(ListingDataOwner::Seller),
            _ => None,
        },
        no_fault_return_shipping_payer: match party(t.no_fault_return_shipping_payer) {
            Some(pb::Party::Customer) => Some(ShippingPayer::Customer),
            Some(pb::Party::Seller) => Some(ShippingPayer::Seller),
            _ => None,
        },
        returnless_threshold: t.returnless_threshold.as_ref().map(money_input),
        auto_authorize: t.auto_authorize,
        sla: t.sla.as_ref().map(|s| SlaTermsInput {
            ack_within: s.ack_within.as_ref().map(delta),
            decision_within: s.decision_within.as_ref().map(delta),
            credit_within: s.credit_within.as_ref().map(delta),
            breach_action: match pb::SlaBreachAction::try_from(s.breach_action) {
                Ok(pb::SlaBreachAction::Notify) => Some(BreachAction::Notify),
                Ok(pb::SlaBreachAction::AutoApprove) => Some(BreachAction::AutoApprove),
                Ok(pb::SlaBreachAction::Failover) => Some(BreachAction::Failover),
                _ => None,
            },
        }),
    }
}

/// Checked terms as the proto message: the normal form that is stored (categories sorted, reasons
/// deduplicated), so what a read returns is what the domain holds.
pub fn terms_to_proto(t: &ContractTerms) -> pb::ContractTerms {
    pb::ContractTerms {
        return_window_days: t.return_window_days as i32,
        defect_window_days: t.defect_window_days as i32,
        non_returnable_categories: t
            .non_returnable_categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        evidence_required_reasons: t
            .evidence_required_reasons
            .iter()
            .map(|r| reason_to_proto(*r) as i32)
            .collect(),
        requires_original_packaging: t.requires_original_packaging,
        accepts_no_fault_returns: t.accepts_no_fault_returns,
        supplier_restocking_fee_bps: i32::from(t.supplier_restocking_fee_bps.value()),
        defect_coverage: match t.defect_coverage {
            DefectCoverage::FullRetail => pb::DefectCoverage::FullRetail,
            DefectCoverage::Wholesale => pb::DefectCoverage::Wholesale,
        } as i32,
        transit_damage_party: match t.transit_damage_party {
            TransitDamageParty::Supplier => pb::Party::Supplier,
            TransitDamageParty::Carrier => pb::Party::Carrier,
            TransitDamageParty::Seller => pb::Party::Seller,
        } as i32,
        listing_data_owner: match t.listing_data_owner {
            ListingDataOwner::Supplier => pb::Party::Supplier,
            ListingDataOwner::Seller => pb::Party::Seller,
        } as i32,
        no_fault_return_shipping_payer: match t.no_fault_return_shipping_payer {
            ShippingPayer::Customer => pb::Party::Customer,
            ShippingPayer::Seller => pb::Party::Seller,
        } as i32,
        returnless_threshold: t.returnless_threshold.map(money_to_proto),
        auto_authorize: t.auto_authorize,
        sla: Some(sla_to_proto(&t.sla)),
    }
}

fn sla_to_proto(s: &SlaTerms) -> pb::SlaTerms {
    pb::SlaTerms {
        ack_within: Some(duration(s.ack_within)),
        decision_within: Some(duration(s.decision_within)),
        credit_within: Some(duration(s.credit_within)),
        breach_action: match s.breach_action {
            BreachAction::Notify => pb::SlaBreachAction::Notify,
            BreachAction::AutoApprove => pb::SlaBreachAction::AutoApprove,
            BreachAction::Failover => pb::SlaBreachAction::Failover,
        } as i32,
    }
}

fn corrupt(what: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {why}"))
}

/// A stored version as the API shows it.
pub fn contract_to_proto(c: &StoredContract) -> Result<pb::Contract, StoreError> {
    let terms = pb::ContractTerms::decode(c.terms.as_slice())
        .map_err(|e| corrupt("contract_versions.terms", e))?;
    Ok(pb::Contract {
        supplier_id: c.supplier.to_string(),
        version: c.version,
        effective_from: Some(timestamp(c.effective_from)),
        effective_until: c.effective_until.map(timestamp),
        terms: Some(terms),
        description: c.description.clone(),
        create_time: Some(timestamp(c.published_at)),
    })
}

/// A stored version as the domain's, its terms checked again on the way in: the document was
/// validated before it was stored, so a failure here means corrupt data, never bad input.
pub fn contract_to_domain(c: &StoredContract) -> Result<ContractVersion, StoreError> {
    let proto = pb::ContractTerms::decode(c.terms.as_slice())
        .map_err(|e| corrupt("contract_versions.terms", e))?;
    let terms = terms_input(&proto)
        .parse()
        .map_err(|v| corrupt("contract_versions.terms", v))?;
    Ok(ContractVersion {
        supplier: c.supplier,
        version: c.version,
        effective_from: c.effective_from,
        terms,
        published_at: c.published_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_and_ones_protobuf_refuses_become_invalid() {
        let d = TimeDelta::hours(36) + TimeDelta::milliseconds(5);
        assert_eq!(delta(&duration(d)), d);
        let huge = prost_types::Duration {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(delta(&huge), TimeDelta::MIN);
        let within = prost_types::Duration {
            seconds: 315_576_000_000,
            nanos: 0,
        };
        assert_eq!(delta(&within).num_days(), 3_652_500);
        let mixed_signs = prost_types::Duration {
            seconds: 3600,
            nanos: -5,
        };
        assert_eq!(delta(&mixed_signs), TimeDelta::MIN);
    }

    #[test]
    fn timestamps_outside_years_1_to_9999_are_violations() {
        let at = |seconds, nanos| {
            let mut v = Violations::default();
            let t = instant(&prost_types::Timestamp { seconds, nanos }, "t", &mut v);
            (t.is_some(), v.is_empty())
        };
        assert_eq!(at(-62_135_596_800, 0), (true, true));
        assert_eq!(at(253_402_300_799, 999_999_999), (true, true));
        assert_eq!(at(-62_135_596_801, 0), (false, false));
        assert_eq!(at(253_402_300_800, 0), (false, false));
        assert_eq!(at(0, -1), (false, false));
        assert_eq!(at(0, 1_000_000_000), (false, false));
    }

    #[test]
    fn every_reason_round_trips_and_unspecified_is_none() {
        for r in ReturnReason::ALL {
            assert_eq!(reason_from_proto(reason_to_proto(r) as i32), Some(r));
        }
        assert_eq!(reason_from_proto(0), None);
        assert_eq!(reason_from_proto(99), None);
    }
}
