//! The eligibility decision: may this return go ahead, on what grounds, and by when.
//!
//! Contract and seller windows are the supplier's and the seller's promise, counted from the delivery
//! instant: "N days" ends exactly N x 24 hours after delivery and includes that instant. Statutory
//! periods are counted as the law counts them ([`crate::period`]): in the customer's calendar days, the
//! day of delivery not counted, up to the start of the day after the last day, run on past rest days
//! where the law says so. Without the customer's time zone they take the reading most generous to the
//! customer, and the decision says so.

use crate::contract::{ContractVersion, SellerSettings};
use crate::decision::{
    Basis, Clause, Deadlines, Decision, DecisionReason, FaultClass, Outcome, ReasonCode,
};
use crate::money::Money;
use crate::order::{ReturnRequest, ReturnedUnits};
use crate::statute::{StatutoryProfile, add_days};
use chrono::{DateTime, SecondsFormat, Utc};

/// Decides a return request. Pure and deterministic: everything it depends on is an argument, `now`
/// included, so the same inputs always give the same decision.
///
/// `already_returned` counts the units of each SKU of the order that earlier returns took back.
/// `contract` is the version in effect when the order was placed and `profile` the customer's
/// statutory profile.
pub fn decide(
    request: &ReturnRequest,
    already_returned: &ReturnedUnits,
    contract: &ContractVersion,
    profile: &StatutoryProfile,
    settings: &SellerSettings,
    now: DateTime<Utc>,
) -> Decision {
    let d = Decider {
        request,
        contract,
        profile,
        settings,
        now,
        reasons: Vec::new(),
        counted_without_zone: None,
        extended_counted: false,
    };
    d.run(already_returned)
}

struct Decider<'a> {
    request: &'a ReturnRequest,
    contract: &'a ContractVersion,
    profile: &'a StatutoryProfile,
    settings: &'a SellerSettings,
    now: DateTime<Utc>,
    reasons: Vec<DecisionReason>,
    /// The counting rule of the first statutory period counted without the customer's time zone.
    counted_without_zone: Option<&'static str>,
    /// Whether a withdrawal period was counted with the profile's extended length.
    extended_counted: bool,
}

/// What the rules concluded before deadlines and returnless are worked out.
struct Verdict {
    outcome: Outcome,
    basis: Basis,
    policy_gap: bool,
    statutory_withdrawal: bool,
}

impl Verdict {
    fn rejected(basis: Basis) -> Self {
        Self {
            outcome: Outcome::Rejected,
            basis,
            policy_gap: false,
            statutory_withdrawal: false,
        }
    }

    fn gap(basis: Basis, statutory_withdrawal: bool) -> Self {
        // The customer's entitlement does not depend on the supplier, so nothing waits for it.
        Self {
            outcome: Outcome::Authorized,
            basis,
            policy_gap: true,
            statutory_withdrawal,
        }
    }
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl<'a> Decider<'a> {
    fn run(mut self, already_returned: &ReturnedUnits) -> Decision {
        let fault = FaultClass::of(self.request.reason, &self.contract.terms);
        let verdict = if !self.quantities_remain(already_returned) {
            Verdict::rejected(Basis::Order)
        } else {
            match fault {
                FaultClass::LateDelivery => self.compensation_claim(),
                FaultClass::Supplier | FaultClass::Carrier | FaultClass::Seller => {
                    self.fault_claim()
                }
                FaultClass::NoFault => self.no_fault_return(),
            }
        };
        self.note_counting();
        let accepted = verdict.outcome != Outcome::Rejected;
        if verdict.outcome == Outcome::PendingSupplier {
            let c = self.term("auto_authorize", "false");
            self.push(
                ReasonCode::AwaitingSupplierDecision,
                c,
                "the supplier approves or rejects first".into(),
            );
        }
        let returnless = accepted
            && !verdict.policy_gap
            && fault != FaultClass::LateDelivery
            && self.returnless();
        let return_required = accepted && !returnless && fault != FaultClass::LateDelivery;
        let sla = &self.contract.terms.sla;
        let after = |d| {
            self.now
                .checked_add_signed(d)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let deadlines = Deadlines {
            customer_ship_by: (verdict.outcome == Outcome::Authorized && return_required)
                .then(|| after(self.settings.ship_by)),
            supplier_ack_by: accepted.then(|| after(sla.ack_within)),
            supplier_decide_by: (verdict.outcome == Outcome::PendingSupplier)
                .then(|| after(sla.decision_within)),
        };
        Decision {
            outcome: verdict.outcome,
            fault,
            basis: verdict.basis,
            policy_gap: verdict.policy_gap,
            statutory_withdrawal: verdict.statutory_withdrawal,
            return_required,
            returnless,
            reasons: self.reasons,
            deadlines,
            contract_version: self.contract.version,
            profile_version: self.profile.version.into(),
        }
    }

    fn push(&mut self, code: ReasonCode, clause: Clause, detail: String) {
        self.reasons.push(DecisionReason {
            code,
            clause,
            detail,
        });
    }

    fn term(&self, term: &'static str, value: impl ToString) -> Clause {
        Clause::Contract {
            version: self.contract.version,
            term: term.into(),
            value: value.to_string(),
        }
    }

    fn statute(&self, citation: &'static str, summary: String) -> Clause {
        Clause::Statute {
            jurisdiction: self.profile.jurisdiction,
            profile_version: self.profile.version.into(),
            citation: citation.into(),
            summary,
        }
    }

    fn delivered(&self) -> DateTime<Utc> {
        self.request.order.delivered_at
    }

    fn window_detail(&self, what: &str, ends: DateTime<Utc>) -> String {
        format!(
            "delivered {}; {what} until {}",
            instant(self.delivered()),
            instant(ends)
        )
    }

    fn quantities_remain(&mut self, already_returned: &ReturnedUnits) -> bool {
        let mut ok = true;
        for item in &self.request.items {
            let bought = self.request.order.line(&item.sku).map_or(0, |l| l.quantity);
            let before = already_returned.get(&item.sku).copied().unwrap_or(0);
            if u64::from(before) + u64::from(item.quantity) > u64::from(bought) {
                ok = false;
                let facts = format!("sku={} bought={bought} already_returned={before}", item.sku);
                let detail = format!(
                    "{} more requested, {} left",
                    item.quantity,
                    bought.saturating_sub(before)
                );
                self.push(
                    ReasonCode::QuantityAlreadyReturned,
                    Clause::Order { facts },
                    detail,
                );
            }
        }
        ok
    }

    fn evidence_missing(&self) -> bool {
        let terms = &self.contract.terms;
        terms
            .evidence_required_reasons
            .contains(&self.request.reason)
            && self.request.evidence.is_empty()
    }

    fn require_evidence(&mut self) {
        let clause = self.term("evidence_required_reasons", self.request.reason);
        let detail = "attach at least one photo or document and request again".into();
        self.push(ReasonCode::EvidenceRequired, clause, detail);
    }

    /// In-policy acceptance under the contract: at once, or after the supplier's decision.
    fn contract_outcome(&self) -> Outcome {
        if self.contract.terms.auto_authorize {
            Outcome::Authorized
        } else {
            Outcome::PendingSupplier
        }
    }

    /// The seller's own window, if it is still open.
    fn seller_window_open(&self) -> Option<(u32, DateTime<Utc>)> {
        let days = self.settings.return_window_days?;
        let ends = add_days(self.delivered(), days);
        (self.now <= ends).then_some((days, ends))
    }

    fn accept_by_seller_policy(&mut self, days: u32, ends: DateTime<Utc>) -> Verdict {
        let clause = Clause::SellerPolicy {
            term: "return_window_days".into(),
            value: days.to_string(),
        };
        let detail = self.window_detail("the seller accepts returns", ends);
        self.push(ReasonCode::SellerReturnWindow, clause, detail);
        Verdict::gap(Basis::SellerPolicy, false)
    }

    fn compensation_claim(&mut self) -> Verdict {
        if self.evidence_missing() {
            self.require_evidence();
            return Verdict::rejected(Basis::Contract);
        }
        let days = self.contract.terms.defect_window_days;
        let ends = add_days(self.delivered(), days);
        let clause = self.term("defect_window_days", days);
        if self.now <= ends {
            let detail = self.window_detail("claims accepted", ends);
            self.push(ReasonCode::CompensationClaim, clause, detail);
            Verdict {
                outcome: self.contract_outcome(),
                basis: Basis::Contract,
                policy_gap: false,
                statutory_withdrawal: false,
            }
        } else {
            let detail = self.window_detail("claims were accepted", ends);
            self.push(ReasonCode::CompensationWindowExpired, clause, detail);
            Verdict::rejected(Basis::Contract)
        }
    }

    fn fault_claim(&mut self) -> Verdict {
        if self.evidence_missing() {
            self.require_evidence();
            return Verdict::rejected(Basis::Contract);
        }
        let days = self.contract.terms.defect_window_days;
        let contract_ends = add_days(self.delivered(), days);
        let contract_ok = self.now <= contract_ends;
        if contract_ok {
            let detail = self.window_detail("fault claims accepted", contract_ends);
            let clause = self.term("defect_window_days", days);
            self.push(ReasonCode::ContractDefectWindow, clause, detail);
            self.note_overridden_categories();
        } else {
            let clause = self.term("defect_window_days", days);
            let detail = self.window_detail("fault claims were accepted", contract_ends);
            self.push(ReasonCode::DefectWindowExpired, clause, detail);
        }
        let statute = self.statutory_fault_remedy();
        match (contract_ok, statute) {
            (true, Some(_)) => Verdict {
                outcome: self.contract_outcome(),
                basis: Basis::Both,
                policy_gap: false,
                statutory_withdrawal: false,
            },
            (true, None) => Verdict {
                outcome: self.contract_outcome(),
                basis: Basis::Contract,
                policy_gap: false,
                statutory_withdrawal: false,
            },
            (false, Some(withdrawal)) => Verdict::gap(Basis::Statute, withdrawal),
            (false, None) => match self.seller_window_open() {
                Some((days, ends)) => self.accept_by_seller_policy(days, ends),
                None if self.profile.legal_guarantee.is_some()
                    || self.profile.withdrawal.is_some() =>
                {
                    Verdict::rejected(Basis::Both)
                }
                None => Verdict::rejected(Basis::Contract),
            },
        }
    }

    /// Records that items in non-returnable categories are still taken back, because of the fault.
    fn note_overridden_categories(&mut self) {
        let terms = &self.contract.terms;
        let mut notes = Vec::new();
        for item in &self.request.items {
            let Some(line) = self.request.order.line(&item.sku) else {
                continue;
            };
            if let Some(listed) = terms.non_returnable(&line.category) {
                notes.push((
                    listed.to_string(),
                    format!("sku={} category={}", item.sku, line.category),
                ));
            }
        }
        for (listed, detail) in notes {
            let clause = self.term("non_returnable_categories", listed);
            self.push(
                ReasonCode::FaultOverridesNonReturnableCategory,
                clause,
                detail,
            );
        }
    }

    /// Whether the returned items' retail value is strictly below the contract's returnless threshold
    /// (in the order's currency; a threshold in another currency never applies).
    fn returnless(&mut self) -> bool {
        let Some(threshold) = self.contract.terms.returnless_threshold else {
            return false;
        };
        let order = &self.request.order;
        if threshold.currency != order.currency {
            return false;
        }
        let values = self.request.items.iter().filter_map(|i| {
            let line = order.line(&i.sku)?;
            line.unit_price.checked_mul(i64::from(i.quantity)).ok()
        });
        // Validation bounds the order total, so the sum fits; an overflow would mean "not below".
        let below = Money::sum(order.currency, values)
            .is_ok_and(|v| v.amount_minor < threshold.amount_minor);
        if below {
            let clause = self.term("returnless_threshold", threshold);
            self.push(
                ReasonCode::ReturnlessRefund,
                clause,
                "refund without shipping the items back".into(),
            );
        }
        below
    }
}

mod no_fault;
mod statutory;
#[cfg(test)]
mod tests;
