//! The statutory side of a decision: the withdrawal period and the legal guarantee counted as the law
//! counts them, and the notes saying how they were counted where the order facts left a choice.

use super::{Decider, instant};
use crate::decision::{Clause, ReasonCode};
use crate::period::{Length, PeriodEnd};
use crate::statute::WithdrawalRight;

/// The statutory withdrawal period this request gets.
#[derive(Clone, Copy)]
pub(super) struct Withdrawal {
    pub(super) right: WithdrawalRight,
    pub(super) length: Length,
    pub(super) ends: PeriodEnd,
    /// The provision granting it: the extended one when that applies.
    pub(super) citation: &'static str,
}

impl Decider<'_> {
    /// The facts a statutory period rests on: delivered when, counted how, open until when.
    pub(super) fn period_detail(&self, what: &str, ends: &PeriodEnd) -> String {
        format!(
            "delivered {}; {what} until {ends}",
            instant(self.delivered())
        )
    }

    /// The withdrawal period, if the profile has one, noting how it was counted.
    pub(super) fn withdrawal(&mut self) -> Option<Withdrawal> {
        let order = &self.request.order;
        let right = self.profile.withdrawal?;
        let (length, ends) = self.profile.withdrawal_ends(
            order.delivered_at,
            order.customer_time_zone,
            order.extended_cancellation_right,
        )?;
        let extended = right.extended.filter(|_| order.extended_cancellation_right);
        self.extended_counted |= extended.is_some();
        if ends.zone.is_none() {
            self.counted_without_zone
                .get_or_insert(right.counting.citation);
        }
        Some(Withdrawal {
            right,
            length,
            ends,
            citation: extended.map_or(right.citation, |x| x.citation),
        })
    }

    pub(super) fn withdrawal_clause(&self, w: &Withdrawal) -> Clause {
        self.statute(w.citation, format!("withdrawal {}", w.length))
    }

    /// Says how statutory periods were counted where the order facts left a choice: without a time
    /// zone, and with or without the extended cancellation right.
    pub(super) fn note_counting(&mut self) {
        if let Some(citation) = self.counted_without_zone {
            let clause = self.statute(
                citation,
                "counted to the end of the last day anywhere on Earth".into(),
            );
            let detail = "customer_time_zone not given: statutory period counted to the end of its last \
                          day anywhere on Earth (the delivery's date at UTC+14, the last day's end at \
                          UTC-12), the reading most generous to the customer"
                .into();
            self.push(ReasonCode::StatutoryPeriodWithoutTimeZone, clause, detail);
        }
        if !self.request.order.extended_cancellation_right {
            return;
        }
        match self.profile.withdrawal.and_then(|w| w.extended) {
            Some(x) if self.extended_counted => {
                let clause = self.statute(x.citation, format!("withdrawal {}", x.length));
                let detail = format!(
                    "the seller says the customer is {}: withdrawal for {} instead of {} days",
                    x.who,
                    x.length,
                    self.profile.withdrawal.map_or(0, |w| w.days_from_delivery)
                );
                self.push(ReasonCode::ExtendedCancellationRight, clause, detail);
            }
            Some(_) => {}
            None => {
                let facts = "customer_extended_cancellation_right=true".into();
                let detail = format!(
                    "the {} profile has no extended cancellation period; the flag is ignored",
                    self.profile.jurisdiction
                );
                self.push(
                    ReasonCode::ExtendedCancellationNotInProfile,
                    Clause::Order { facts },
                    detail,
                );
            }
        }
    }

    /// Whether the law gives the customer a remedy for a fault now, recording the provision either way:
    /// the legal guarantee, or else the withdrawal right while it lasts (the only one where the profile
    /// has no guarantee period). `Some(true)` when the remedy is a withdrawal.
    pub(super) fn statutory_fault_remedy(&mut self) -> Option<bool> {
        let order = &self.request.order;
        if let (Some(g), Some(ends)) = (
            self.profile.legal_guarantee,
            (self.profile).guarantee_ends(order.delivered_at, order.customer_time_zone),
        ) {
            if ends.zone.is_none() {
                self.counted_without_zone.get_or_insert(g.counting.citation);
            }
            let clause = self.statute(g.citation, format!("legal guarantee {} months", g.months));
            if ends.is_open_at(self.now) {
                let detail = self.period_detail("the seller answers for non-conformity", &ends);
                self.push(ReasonCode::StatutoryLegalGuarantee, clause, detail);
                return Some(false);
            }
            let detail = self.period_detail("the legal guarantee ran", &ends);
            self.push(ReasonCode::StatutoryGuaranteeExpired, clause, detail);
            return None;
        }
        let w = self.withdrawal()?;
        let clause = self.withdrawal_clause(&w);
        if w.ends.is_open_at(self.now) {
            let detail = self.period_detail("the customer may withdraw", &w.ends);
            self.push(ReasonCode::StatutoryWithdrawal, clause, detail);
            Some(true)
        } else {
            let detail = self.period_detail("the customer could withdraw", &w.ends);
            self.push(ReasonCode::StatutoryWindowExpired, clause, detail);
            None
        }
    }
}
