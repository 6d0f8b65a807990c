//! Supplier contracts: the terms a seller agreed with one supplier, versioned and immutable, and the
//! seller's own settings that sit on top of them.

use crate::ids::SupplierId;
use crate::money::{BasisPoints, Money, apply_bps};
use crate::order::{Category, ReturnReason};
use crate::statute::StatutoryProfile;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::BTreeSet;

named_enum!(
    /// How much of a supplier-fault return the supplier funds.
    DefectCoverage {
        /// The customer's whole refund ("full responsibility").
        FullRetail => "FULL_RETAIL",
        /// The unit cost; the seller funds its own margin.
        Wholesale => "WHOLESALE",
    }
);
named_enum!(
    /// Who bears damage in transit.
    TransitDamageParty {
        /// The supplier (its packaging).
        Supplier => "SUPPLIER",
        /// The carrier, through a claim.
        Carrier => "CARRIER",
        /// The seller.
        Seller => "SELLER",
    }
);
named_enum!(
    /// Who answers for the listing, and so for "not as described".
    ListingDataOwner {
        /// The supplier provided the listing data.
        Supplier => "SUPPLIER",
        /// The seller wrote the listing.
        Seller => "SELLER",
    }
);
named_enum!(
    /// Who pays the label of a no-fault return.
    ShippingPayer {
        /// The customer.
        Customer => "CUSTOMER",
        /// The seller.
        Seller => "SELLER",
    }
);
named_enum!(
    /// What happens when a supplier misses a deadline.
    BreachAction {
        /// Record the breach and tell the seller.
        Notify => "NOTIFY",
        /// Silence counts as approval.
        AutoApprove => "AUTO_APPROVE",
        /// Forward to the backup supplier, which then carries full responsibility.
        Failover => "FAILOVER",
    }
);

/// The supplier's response deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaTerms {
    /// Acknowledge a request within this.
    pub ack_within: TimeDelta,
    /// Approve or reject an authorization request within this.
    pub decision_within: TimeDelta,
    /// Credit the seller within this after receiving the goods.
    pub credit_within: TimeDelta,
    /// What a missed deadline triggers.
    pub breach_action: BreachAction,
}

/// Every term of a contract (docs/design.md), checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractTerms {
    /// No-fault returns are accepted until delivery + N days.
    pub return_window_days: u32,
    /// Fault claims are accepted until delivery + N days.
    pub defect_window_days: u32,
    /// Categories never taken back without a fault (still taken back for a fault). Listing a category
    /// covers its subcategories. Sorted, no duplicates.
    pub non_returnable_categories: Vec<Category>,
    /// Reasons that need at least one evidence link before authorization.
    pub evidence_required_reasons: BTreeSet<ReturnReason>,
    /// No-fault returns need the original packaging (checked at inspection).
    pub requires_original_packaging: bool,
    /// The supplier takes no-fault returns back into stock and credits the seller.
    pub accepts_no_fault_returns: bool,
    /// What the supplier keeps of the unit cost on a no-fault return.
    pub supplier_restocking_fee_bps: BasisPoints,
    /// How much of a supplier-fault return the supplier funds.
    pub defect_coverage: DefectCoverage,
    /// Who bears transit damage.
    pub transit_damage_party: TransitDamageParty,
    /// Who answers for "not as described".
    pub listing_data_owner: ListingDataOwner,
    /// Who pays a no-fault return's label.
    pub no_fault_return_shipping_payer: ShippingPayer,
    /// Refund without a physical return when the returned items' retail value is strictly below this.
    /// Applies only to orders in the threshold's currency: amounts are never converted.
    pub returnless_threshold: Option<Money>,
    /// In-policy returns are authorized at once; otherwise they wait for the supplier.
    pub auto_authorize: bool,
    /// Response deadlines.
    pub sla: SlaTerms,
}

impl ContractTerms {
    /// The first listed category that `category` falls under, if it is non-returnable.
    pub fn non_returnable(&self, category: &Category) -> Option<&Category> {
        self.non_returnable_categories
            .iter()
            .find(|c| category.is_within(c))
    }
}

/// One published contract version. Versions are never changed: new terms are version n+1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractVersion {
    /// The supplier it binds.
    pub supplier: SupplierId,
    /// 1, 2, 3... per supplier.
    pub version: i64,
    /// Orders placed from this instant on are decided under this version (until the next one).
    pub effective_from: DateTime<Utc>,
    /// The terms.
    pub terms: ContractTerms,
    /// When it was published.
    pub published_at: DateTime<Utc>,
}

impl ContractVersion {
    /// The version in effect at `at`: the latest `effective_from` not after it (the highest version on
    /// a tie). `None` when every version starts later.
    pub fn in_effect(versions: &[ContractVersion], at: DateTime<Utc>) -> Option<&ContractVersion> {
        versions
            .iter()
            .filter(|v| v.effective_from <= at)
            .max_by_key(|v| (v.effective_from, v.version))
    }
}

/// The seller's own settings (per tenant), on top of every supplier's contract.
///
/// They can only add to the customer's rights: a window shorter than the statutory one is simply
/// outlasted by the statute in [`crate::eligibility::decide`], and the customer fee is capped by the
/// statutory profile whenever the return is a statutory withdrawal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SellerSettings {
    /// Fee the customer pays on a no-fault return, on the price of the returned units.
    pub customer_restocking_fee_bps: BasisPoints,
    /// Time the customer has to ship after authorization.
    pub ship_by: TimeDelta,
    /// The seller's own no-fault window in days from delivery, when it is more generous than a
    /// supplier's.
    pub return_window_days: Option<u32>,
}

impl Default for SellerSettings {
    /// No fee, 14 days to ship, no window of the seller's own.
    fn default() -> Self {
        Self {
            customer_restocking_fee_bps: BasisPoints::ZERO,
            ship_by: TimeDelta::days(14),
            return_window_days: None,
        }
    }
}

impl SellerSettings {
    /// The customer restocking fee on returned goods priced `price` (all units). Faulty goods carry no
    /// fee; on a statutory withdrawal the fee is capped by `profile`.
    pub fn customer_fee(
        &self,
        price: Money,
        profile: &StatutoryProfile,
        statutory_withdrawal: bool,
        faulty: bool,
    ) -> Money {
        if faulty {
            return Money::zero(price.currency);
        }
        let fee = apply_bps(price, self.customer_restocking_fee_bps);
        if statutory_withdrawal {
            profile.cap_customer_fee(fee, price, faulty)
        } else {
            fee
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::Currency;
    use crate::statute::{EU, IL, US};

    #[test]
    fn enum_names_round_trip() {
        for b in BreachAction::ALL {
            assert_eq!(BreachAction::parse(b.as_str()), Ok(*b));
        }
        assert!(
            DefectCoverage::parse("PARTIAL")
                .unwrap_err()
                .contains("FULL_RETAIL")
        );
    }

    #[test]
    fn the_customer_fee_is_capped_by_the_statute_on_a_withdrawal_only() {
        let settings = SellerSettings {
            customer_restocking_fee_bps: BasisPoints::new_const(1_000),
            ..SellerSettings::default()
        };
        let price = Money::new(Currency::EUR, 10_000);
        assert_eq!(
            settings.customer_fee(price, &EU, true, false).amount_minor,
            0
        );
        assert_eq!(
            settings.customer_fee(price, &EU, false, false).amount_minor,
            1_000
        );
        assert_eq!(
            settings.customer_fee(price, &US, false, false).amount_minor,
            1_000
        );
        assert_eq!(
            settings.customer_fee(price, &EU, false, true).amount_minor,
            0
        );
        let shekels = Money::new(Currency::ILS, 10_000);
        assert_eq!(
            settings
                .customer_fee(shekels, &IL, true, false)
                .amount_minor,
            500
        );
    }
}
