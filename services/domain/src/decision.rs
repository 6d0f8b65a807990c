//! What [`crate::eligibility::decide`] answers: an outcome the seller can defend, every reason with a
//! stable code and the clause it rests on, and the deadlines that follow.

use crate::contract::{ContractTerms, ListingDataOwner, TransitDamageParty};
use crate::order::ReturnReason;
use crate::statute::Jurisdiction;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

named_enum!(
    /// Who is at fault, from the reason and the contract. Customer fault (damage found at inspection)
    /// is not known at authorization and so is not a class here.
    FaultClass {
        /// The supplier: defective, wrong or incomplete goods, its packaging, or its listing data.
        Supplier => "SUPPLIER",
        /// The carrier damaged the goods in transit.
        Carrier => "CARRIER",
        /// The seller: its listing, or transit damage it agreed to bear.
        Seller => "SELLER",
        /// Nobody: the customer changed their mind or the size did not fit.
        NoFault => "NO_FAULT",
        /// Late delivery: a compensation claim, no goods come back.
        LateDelivery => "LATE_DELIVERY",
    }
);

impl FaultClass {
    /// The fault class of `reason` under `terms`.
    pub fn of(reason: ReturnReason, terms: &ContractTerms) -> Self {
        match reason {
            ReturnReason::Defective | ReturnReason::WrongItem | ReturnReason::MissingParts => {
                Self::Supplier
            }
            ReturnReason::DamagedInTransit => match terms.transit_damage_party {
                TransitDamageParty::Supplier => Self::Supplier,
                TransitDamageParty::Carrier => Self::Carrier,
                TransitDamageParty::Seller => Self::Seller,
            },
            ReturnReason::NotAsDescribed => match terms.listing_data_owner {
                ListingDataOwner::Supplier => Self::Supplier,
                ListingDataOwner::Seller => Self::Seller,
            },
            ReturnReason::LateDelivery => Self::LateDelivery,
            ReturnReason::ChangedMind | ReturnReason::SizeFit => Self::NoFault,
        }
    }
}

named_enum!(
    /// The answer to a return request.
    Outcome {
        /// Accepted now; the supplier is notified.
        Authorized => "AUTHORIZED",
        /// In policy, but the contract lets the supplier decide first.
        PendingSupplier => "PENDING_SUPPLIER",
        /// Not accepted; the reasons say why and on what clause.
        Rejected => "REJECTED",
    }
);

named_enum!(
    /// What the decision rests on.
    Basis {
        /// The supplier contract alone.
        Contract => "CONTRACT",
        /// The statute alone: the contract does not cover it (a policy gap when accepted).
        Statute => "STATUTE",
        /// Both the contract and the statute.
        Both => "BOTH",
        /// The seller's own, more generous policy alone (a policy gap).
        SellerPolicy => "SELLER_POLICY",
        /// The order facts: more units than remain to be returned.
        Order => "ORDER",
    }
);

named_enum!(
    /// A decision reason's stable, machine-readable code. Codes are never renamed: clients switch on
    /// them. The list is the one in return.proto's `DecisionReason.code` (a test keeps them equal).
    ReasonCode {
        /// A no-fault return inside the contract's return window.
        ContractReturnWindow => "CONTRACT_RETURN_WINDOW",
        /// A fault claim inside the contract's defect window.
        ContractDefectWindow => "CONTRACT_DEFECT_WINDOW",
        /// A late-delivery compensation claim: nothing is shipped back.
        CompensationClaim => "COMPENSATION_CLAIM",
        /// The customer withdraws under the statutory right.
        StatutoryWithdrawal => "STATUTORY_WITHDRAWAL",
        /// The statutory legal guarantee covers the fault.
        StatutoryLegalGuarantee => "STATUTORY_LEGAL_GUARANTEE",
        /// The seller's own window covers the return.
        SellerReturnWindow => "SELLER_RETURN_WINDOW",
        /// A non-returnable category is taken back because the return is for a fault.
        FaultOverridesNonReturnableCategory => "FAULT_OVERRIDES_NON_RETURNABLE_CATEGORY",
        /// The items are refunded without coming back.
        ReturnlessRefund => "RETURNLESS_REFUND",
        /// The supplier decides before the return is authorized.
        AwaitingSupplierDecision => "AWAITING_SUPPLIER_DECISION",
        /// Inspection will check the original packaging.
        OriginalPackagingRequired => "ORIGINAL_PACKAGING_REQUIRED",
        /// The contract wants evidence, but a statutory withdrawal needs no reason.
        EvidenceWaivedByStatute => "EVIDENCE_WAIVED_BY_STATUTE",
        /// Earlier returns leave fewer units than requested.
        QuantityAlreadyReturned => "QUANTITY_ALREADY_RETURNED",
        /// The reason needs evidence and none was attached.
        EvidenceRequired => "EVIDENCE_REQUIRED",
        /// The contract's no-fault window has ended.
        ReturnWindowExpired => "RETURN_WINDOW_EXPIRED",
        /// The contract's defect window has ended.
        DefectWindowExpired => "DEFECT_WINDOW_EXPIRED",
        /// The window for a late-delivery claim has ended.
        CompensationWindowExpired => "COMPENSATION_WINDOW_EXPIRED",
        /// A returned item's category is non-returnable without a fault.
        NonReturnableCategory => "NON_RETURNABLE_CATEGORY",
        /// The supplier takes no no-fault returns.
        NoFaultReturnsNotAccepted => "NO_FAULT_RETURNS_NOT_ACCEPTED",
        /// The statutory withdrawal period has ended.
        StatutoryWindowExpired => "STATUTORY_WINDOW_EXPIRED",
        /// The law exempts a returned item's category from withdrawal.
        StatutoryExemptCategory => "STATUTORY_EXEMPT_CATEGORY",
        /// The statutory legal guarantee has ended.
        StatutoryGuaranteeExpired => "STATUTORY_GUARANTEE_EXPIRED",
        /// No customer time zone was given: statutory periods were counted to the end of their last day
        /// anywhere on Earth.
        StatutoryPeriodWithoutTimeZone => "STATUTORY_PERIOD_WITHOUT_TIME_ZONE",
        /// The customer qualifies for the profile's extended withdrawal period, which was applied.
        ExtendedCancellationRight => "EXTENDED_CANCELLATION_RIGHT",
        /// The order says the customer qualifies for an extended withdrawal period, but the profile has
        /// none: the flag was ignored.
        ExtendedCancellationNotInProfile => "EXTENDED_CANCELLATION_NOT_IN_PROFILE",
    }
);

/// The rule a reason rests on, precise enough to look up later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Clause {
    /// A term of a contract version: `contract v3 return_window_days=14`.
    Contract {
        /// The version decided under.
        version: i64,
        /// The term's name as in docs/design.md's table.
        term: Cow<'static, str>,
        /// Its value in that version.
        value: String,
    },
    /// A provision of a statutory profile: `statute EU Directive 2011/83/EU art. 9 withdrawal 14d`.
    Statute {
        /// Whose law.
        jurisdiction: Jurisdiction,
        /// The profile version decided under.
        profile_version: Cow<'static, str>,
        /// The provision.
        citation: Cow<'static, str>,
        /// What it says, briefly (`withdrawal 14d`).
        summary: String,
    },
    /// A seller setting: `seller return_window_days=30`.
    SellerPolicy {
        /// The setting's name.
        term: Cow<'static, str>,
        /// Its value.
        value: String,
    },
    /// The order facts: `order sku=TEE-M bought=2 already_returned=2`.
    Order {
        /// The facts.
        facts: String,
    },
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Contract {
                version,
                term,
                value,
            } => write!(f, "contract v{version} {term}={value}"),
            Clause::Statute {
                jurisdiction,
                citation,
                summary,
                ..
            } => write!(f, "statute {jurisdiction} {citation} {summary}"),
            Clause::SellerPolicy { term, value } => write!(f, "seller {term}={value}"),
            Clause::Order { facts } => write!(f, "order {facts}"),
        }
    }
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionReason {
    /// Stable code.
    pub code: ReasonCode,
    /// The clause it rests on.
    pub clause: Clause,
    /// The facts that made it apply, for people (`delivered 2026-03-01T10:00:00Z, window ended ...`).
    pub detail: String,
}

/// When things are due, counted from the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Deadlines {
    /// The customer must ship by then (authorized returns that need shipping).
    pub customer_ship_by: Option<DateTime<Utc>>,
    /// The supplier must acknowledge by then (whenever it is told).
    pub supplier_ack_by: Option<DateTime<Utc>>,
    /// The supplier must approve or reject by then (PENDING_SUPPLIER only).
    pub supplier_decide_by: Option<DateTime<Utc>>,
}

/// The decision on a return request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Authorized, pending the supplier, or rejected.
    pub outcome: Outcome,
    /// Who is at fault, from the reason.
    pub fault: FaultClass,
    /// What the outcome rests on.
    pub basis: Basis,
    /// The customer is entitled by law or seller policy but the contract does not cover it: the seller
    /// accepts and bears what the supplier does not.
    pub policy_gap: bool,
    /// The return is a statutory withdrawal: the profile's fee cap and delivery refund apply.
    pub statutory_withdrawal: bool,
    /// Goods must be shipped back (false for returnless refunds, compensation claims and rejections).
    pub return_required: bool,
    /// Refunded without a physical return, under the contract's threshold.
    pub returnless: bool,
    /// Every reason, in the order the rules were applied.
    pub reasons: Vec<DecisionReason>,
    /// What is due when.
    pub deadlines: Deadlines,
    /// The contract version decided under.
    pub contract_version: i64,
    /// The statutory profile version decided under.
    pub profile_version: Cow<'static, str>,
}

impl Decision {
    /// The reason codes, in order.
    pub fn codes(&self) -> Vec<ReasonCode> {
        self.reasons.iter().map(|r| r.code).collect()
    }
}
