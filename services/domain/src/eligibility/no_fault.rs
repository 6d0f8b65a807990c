//! No-fault returns (change of mind, size): the contract window, the statutory withdrawal, the seller's
//! own window, and the categories each of them excludes.

use super::{Decider, Verdict};
use crate::decision::{Basis, Outcome, ReasonCode};
use crate::statute::add_days;

impl Decider<'_> {
    pub(super) fn no_fault_return(&mut self) -> Verdict {
        let terms = &self.contract.terms;
        let order = &self.request.order;
        let days = terms.return_window_days;
        let contract_ends = add_days(self.delivered(), days);
        let mut blocked = Vec::new();
        let mut exempt = Vec::new();
        for item in &self.request.items {
            let Some(line) = order.line(&item.sku) else {
                continue;
            };
            if let Some(listed) = terms.non_returnable(&line.category) {
                blocked.push((
                    listed.to_string(),
                    format!("sku={} category={}", item.sku, line.category),
                ));
            }
            if self.profile.withdrawal_exempts(line.category.as_str()) {
                exempt.push(format!("sku={} category={}", item.sku, line.category));
            }
        }
        let categories_ok = blocked.is_empty() && exempt.is_empty();
        let withdrawal = self.withdrawal();
        let statute_window_open = withdrawal.is_some_and(|w| w.ends.is_open_at(self.now));
        let statute_ok = statute_window_open && exempt.is_empty();
        let evidence_missing = self.evidence_missing();
        if evidence_missing && !statute_ok {
            self.require_evidence();
            return Verdict::rejected(Basis::Contract);
        }
        let time_ok = self.now <= contract_ends;
        let contract_ok =
            terms.accepts_no_fault_returns && time_ok && blocked.is_empty() && !evidence_missing;
        let packaging = terms.requires_original_packaging;
        if contract_ok {
            let detail = self.window_detail("no-fault returns accepted", contract_ends);
            self.push(
                ReasonCode::ContractReturnWindow,
                self.term("return_window_days", days),
                detail,
            );
            if packaging {
                let clause = self.term("requires_original_packaging", true);
                self.push(
                    ReasonCode::OriginalPackagingRequired,
                    clause,
                    "checked at inspection".into(),
                );
            }
        } else {
            if !terms.accepts_no_fault_returns {
                let clause = self.term("accepts_no_fault_returns", false);
                let detail = "the supplier takes no goods back without a fault".into();
                self.push(ReasonCode::NoFaultReturnsNotAccepted, clause, detail);
            } else if !time_ok {
                let detail = self.window_detail("no-fault returns were accepted", contract_ends);
                self.push(
                    ReasonCode::ReturnWindowExpired,
                    self.term("return_window_days", days),
                    detail,
                );
            }
            for (listed, detail) in blocked {
                let clause = self.term("non_returnable_categories", listed);
                self.push(ReasonCode::NonReturnableCategory, clause, detail);
            }
            if evidence_missing {
                let clause = self.term("evidence_required_reasons", self.request.reason);
                let detail = "a statutory withdrawal needs no reason and no evidence".into();
                self.push(ReasonCode::EvidenceWaivedByStatute, clause, detail);
            }
        }
        match withdrawal {
            Some(w) if statute_ok => {
                let clause = self.withdrawal_clause(&w);
                let detail = self.period_detail("the customer may withdraw", &w.ends);
                self.push(ReasonCode::StatutoryWithdrawal, clause, detail);
            }
            Some(w) => {
                if !statute_window_open {
                    let clause = self.withdrawal_clause(&w);
                    let detail = self.period_detail("the customer could withdraw", &w.ends);
                    self.push(ReasonCode::StatutoryWindowExpired, clause, detail);
                }
                for detail in exempt {
                    let clause =
                        self.statute(w.right.exemption_citation, "exempt from withdrawal".into());
                    self.push(ReasonCode::StatutoryExemptCategory, clause, detail);
                }
            }
            None => {}
        }
        match (contract_ok, statute_ok) {
            // A statutory withdrawal is unconditional, so it never waits for the supplier.
            (true, true) => Verdict {
                outcome: Outcome::Authorized,
                basis: Basis::Both,
                policy_gap: false,
                statutory_withdrawal: true,
            },
            (true, false) => Verdict {
                outcome: self.contract_outcome(),
                basis: Basis::Contract,
                policy_gap: false,
                statutory_withdrawal: false,
            },
            (false, true) => Verdict::gap(Basis::Statute, true),
            // The seller's window extends time only: items the contract never takes back or the law
            // exempts stay excluded under it too.
            (false, false) => match self.seller_window_open() {
                Some((days, ends)) if categories_ok => self.accept_by_seller_policy(days, ends),
                _ if withdrawal.is_some() => Verdict::rejected(Basis::Both),
                _ => Verdict::rejected(Basis::Contract),
            },
        }
    }
}
