//! Liability splits and settlement lines, domain -> proto.

use super::returns::{clause, jurisdiction_to_proto};
use super::{money_to_proto, timestamp};
use chrono::{DateTime, Utc};
use returnbridge_domain::Money;
use returnbridge_domain::liability::{LiabilityFault, LiabilitySplit};
use returnbridge_proto::v1 as pb;

/// A proto enum value from the domain's code, by the proto naming convention (`PARTY_` + code).
fn coded<E: Into<i32>>(prefix: &str, code: &str, from_name: fn(&str) -> Option<E>) -> i32 {
    from_name(&format!("{prefix}{code}"))
        .map(Into::into)
        .unwrap_or_default()
}

/// The fault class a split applied.
pub fn fault_to_proto(f: LiabilityFault) -> i32 {
    coded("FAULT_CLASS_", f.as_str(), pb::FaultClass::from_str_name)
}

/// A split as the API shows it.
pub fn split_to_proto(
    s: &LiabilitySplit,
    return_id: &str,
    is_quote: bool,
    at: DateTime<Utc>,
) -> pb::LiabilitySplit {
    pb::LiabilitySplit {
        return_id: return_id.to_owned(),
        currency_code: s.currency.code().to_owned(),
        is_quote,
        fault_class: fault_to_proto(s.fault),
        resolution: coded(
            "RESOLUTION_",
            s.resolution.as_str(),
            pb::Resolution::from_str_name,
        ),
        policy_gap: s.policy_gap,
        components: s
            .components
            .iter()
            .map(|c| pb::ComponentAmount {
                component: coded(
                    "COST_COMPONENT_",
                    c.component.as_str(),
                    pb::CostComponent::from_str_name,
                ),
                amount: Some(money_to_proto(c.amount)),
            })
            .collect(),
        allocations: s
            .allocations
            .iter()
            .map(|a| pb::Allocation {
                component: coded(
                    "COST_COMPONENT_",
                    a.component.as_str(),
                    pb::CostComponent::from_str_name,
                ),
                party: coded("PARTY_", a.party.as_str(), pb::Party::from_str_name),
                amount: Some(money_to_proto(a.amount)),
                rule: a.rule.as_str().to_owned(),
                clause: Some(clause(&a.clause).1),
                explanation: a.explanation.clone(),
            })
            .collect(),
        totals: s
            .totals
            .iter()
            .map(|t| pb::PartyAmount {
                party: coded("PARTY_", t.party.as_str(), pb::Party::from_str_name),
                amount: Some(money_to_proto(t.amount)),
            })
            .collect(),
        customer_refund: Some(money_to_proto(s.customer_refund)),
        customer_charge: Some(money_to_proto(s.customer_charge)),
        supplier_net_to_seller: Some(money_to_proto(s.supplier_net_to_seller)),
        contract_version: s.contract_version,
        statutory_profile: jurisdiction_to_proto(s.jurisdiction) as i32,
        statutory_profile_version: s.profile_version.to_owned(),
        compute_time: Some(timestamp(at)),
    }
}

/// The two one-sided amounts of a signed net (positive: the supplier owes the seller).
pub fn sides(net: Money) -> (Money, Money) {
    let zero = Money::zero(net.currency);
    if net.amount_minor >= 0 {
        (net, zero)
    } else {
        (
            zero,
            Money::new(net.currency, net.amount_minor.saturating_neg()),
        )
    }
}
