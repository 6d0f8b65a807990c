//! The return: everything recorded about one return, and every change to it as a method that checks
//! the state machine ([`crate::lifecycle`]), checks its input against the return's own facts, and says
//! what happened as a [`ReturnEvent`]. The API shows it as the v1 `Return` message and the store keeps
//! it as its own document; both convert at their edge.

use crate::contract::{BreachAction, ContractVersion, SellerSettings, SlaTerms};
use crate::decision::{Basis, Decision, FaultClass, Outcome};
use crate::error::{DomainError, ErrorReason, Violations};
use crate::ids::{ReturnId, SupplierId};
use crate::liability::{
    self, Inspection, LabelPaidBy, LiabilityError, LiabilitySplit, Resolution, SplitInput,
};
use crate::lifecycle::{ReturnStatus, Transition};
use crate::money::Money;
use crate::order::{EvidenceUri, ReturnItem, ReturnRequest, Sku};
use crate::statute::StatutoryProfile;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Most evidence items one return holds.
pub const MAX_EVIDENCE: usize = crate::order_input::MAX_EVIDENCE;

named_enum!(
    /// Who does something to a return.
    ActorKind {
        /// A seller's API key.
        Seller => "SELLER",
        /// A supplier's API key.
        Supplier => "SUPPLIER",
        /// Returnbridge itself: sweeps and SLA actions.
        System => "SYSTEM",
    }
);

/// Who did something: the kind and the key or supplier id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Seller, supplier or system.
    pub kind: ActorKind,
    /// The API key id (seller), the supplier id, or `returnbridge`.
    pub id: String,
}

impl Actor {
    /// Returnbridge itself.
    pub fn system() -> Self {
        Self {
            kind: ActorKind::System,
            id: "returnbridge".into(),
        }
    }

    /// How the audit trail's `actor` column names it: `seller:<key id>`, `supplier:<id>`, `system`.
    pub fn label(&self) -> String {
        match self.kind {
            ActorKind::Seller => format!("seller:{}", self.id),
            ActorKind::Supplier => format!("supplier:{}", self.id),
            ActorKind::System => "system".into(),
        }
    }
}

/// A photo or document backing the claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where it is.
    pub uri: EvidenceUri,
    /// What it shows; may be empty.
    pub description: String,
    /// When it was added.
    pub added_at: DateTime<Utc>,
    /// Who added it.
    pub added_by: Actor,
}

/// The goods' journey back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The carrier's name; may be empty.
    pub carrier: String,
    /// The tracking number; may be empty.
    pub tracking_number: String,
    /// What the label cost, when known.
    pub label_cost: Option<Money>,
    /// When the goods were handed to the carrier.
    pub shipped_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: Actor,
}

/// The goods' arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// When they arrived.
    pub received_at: DateTime<Utc>,
    /// What arrived (every returned line when the seller did not say).
    pub items: Vec<ReturnItem>,
    /// A note for people.
    pub note: String,
    /// Who recorded it.
    pub recorded_by: Actor,
}

named_enum!(
    /// What inspection found.
    InspectionOutcome {
        /// As expected.
        Passed => "PASSED",
        /// The customer damaged the goods.
        DamagedByCustomer => "DAMAGED_BY_CUSTOMER",
        /// The original packaging is missing.
        MissingOriginalPackaging => "MISSING_ORIGINAL_PACKAGING",
        /// The claimed defect was not found.
        DefectNotFound => "DEFECT_NOT_FOUND",
        /// Goods other than the ones sold came back.
        ItemMismatch => "ITEM_MISMATCH",
    }
);

/// What inspection found for some units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedItem {
    /// The SKU.
    pub sku: Sku,
    /// Units.
    pub quantity: u32,
    /// Their outcome, when the seller gave one per line.
    pub outcome: Option<InspectionOutcome>,
}

/// The inspection report (the latest one: a re-inspection replaces it, the trail keeps both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionReport {
    /// The outcome for the whole return.
    pub outcome: InspectionOutcome,
    /// Per-line outcomes, when given.
    pub items: Vec<InspectedItem>,
    /// What the damage withholds from the refund.
    pub damage_deduction: Option<Money>,
    /// A note for people.
    pub note: String,
    /// Photos of what was found.
    pub evidence: Vec<EvidenceUri>,
    /// When.
    pub inspected_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: Actor,
}

impl InspectionReport {
    /// The report as the split reads it.
    pub fn for_split(&self) -> Inspection {
        match self.outcome {
            InspectionOutcome::DamagedByCustomer => Inspection::DamagedByCustomer {
                deduction: self.damage_deduction,
            },
            // Goods other than the ones sold came back: the customer bears their whole price.
            InspectionOutcome::ItemMismatch => Inspection::DamagedByCustomer { deduction: None },
            InspectionOutcome::MissingOriginalPackaging => Inspection::MissingOriginalPackaging,
            InspectionOutcome::DefectNotFound => Inspection::DefectNotFound,
            InspectionOutcome::Passed => Inspection::Passed,
        }
    }
}

/// How a return is resolved, as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionAsk {
    /// Refund, store credit, exchange, replacement or partial refund.
    pub resolution: Resolution,
    /// The units resolved; empty means every returned unit.
    pub items: Vec<ReturnItem>,
    /// Goodwill, or the LATE_DELIVERY claim.
    pub compensation: Option<Money>,
}

/// The resolution, once RESOLVED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionRecord {
    /// What was asked.
    pub ask: ResolutionAsk,
    /// What the customer receives.
    pub customer_refund: Money,
    /// What the customer pays (an exchange for dearer goods).
    pub customer_charge: Money,
    /// When.
    pub resolved_at: DateTime<Utc>,
    /// Who resolved it.
    pub resolved_by: Actor,
    /// A note for people.
    pub note: String,
}

/// Why a return was withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    /// The seller's reason.
    pub reason: String,
    /// When.
    pub cancelled_at: DateTime<Utc>,
    /// Who.
    pub cancelled_by: Actor,
}

/// The supplier's confirmation that it credited the seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditConfirmation {
    /// How much.
    pub amount: Money,
    /// The supplier's reference.
    pub reference: String,
    /// When.
    pub credited_at: DateTime<Utc>,
    /// Who recorded it.
    pub recorded_by: Actor,
}

named_enum!(
    /// What a supplier-bound request asks for.
    SupplierRequestKind {
        /// Approve or reject a PENDING_SUPPLIER return.
        AuthorizationRequest => "AUTHORIZATION_REQUEST",
        /// Take note of an authorized return.
        Notice => "NOTICE",
        /// Inspect the goods.
        InspectionRequest => "INSPECTION_REQUEST",
        /// Credit the seller.
        CreditRequest => "CREDIT_REQUEST",
    }
);

named_enum!(
    /// Where a supplier-bound request stands.
    SupplierRequestState {
        /// Queued for delivery.
        PendingDelivery => "PENDING_DELIVERY",
        /// Delivered, not yet acknowledged.
        Delivered => "DELIVERED",
        /// Acknowledged, not yet answered.
        Acknowledged => "ACKNOWLEDGED",
        /// Answered.
        Answered => "ANSWERED",
        /// Every delivery attempt failed.
        DeliveryFailed => "DELIVERY_FAILED",
        /// Replaced by a request to the backup supplier.
        Superseded => "SUPERSEDED",
    }
);

named_enum!(
    /// Which of a request's deadlines.
    DeadlineKind {
        /// Acknowledge by.
        Ack => "ACK",
        /// Decide by.
        Decision => "DECISION",
        /// Credit by.
        Credit => "CREDIT",
    }
);

/// The deadlines a supplier is held to for one request; `None` where the kind has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SupplierDeadlines {
    /// Acknowledge by.
    pub ack_by: Option<DateTime<Utc>>,
    /// Decide by (authorization requests).
    pub decide_by: Option<DateTime<Utc>>,
    /// Credit by (after receipt).
    pub credit_by: Option<DateTime<Utc>>,
}

impl SupplierDeadlines {
    /// The deadline of `kind`.
    pub fn of(&self, kind: DeadlineKind) -> Option<DateTime<Utc>> {
        match kind {
            DeadlineKind::Ack => self.ack_by,
            DeadlineKind::Decision => self.decide_by,
            DeadlineKind::Credit => self.credit_by,
        }
    }
}

/// A missed deadline, recorded on its request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    /// Which deadline.
    pub kind: DeadlineKind,
    /// When it was due.
    pub deadline: DateTime<Utc>,
    /// When the breach was recorded.
    pub recorded_at: DateTime<Utc>,
    /// What the contract said to do.
    pub action: BreachAction,
}

/// A request forwarded to a supplier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierRequest {
    /// Stable across delivery retries: the webhook-id suppliers deduplicate on.
    pub id: Uuid,
    /// What it asks.
    pub kind: SupplierRequestKind,
    /// Whom (the backup after a failover).
    pub supplier: SupplierId,
    /// Where it stands.
    pub state: SupplierRequestState,
    /// Its deadlines.
    pub deadlines: SupplierDeadlines,
    /// Queued at.
    pub created_at: DateTime<Utc>,
    /// First delivered at.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Acknowledged at.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Answered at.
    pub answered_at: Option<DateTime<Utc>>,
    /// Delivery attempts so far.
    pub delivery_attempts: u32,
    /// Sent to the backup supplier after a FAILOVER.
    pub failover: bool,
    /// Deadlines it missed, each kind at most once.
    pub breaches: Vec<Breach>,
}

impl SupplierRequest {
    /// A new request to `supplier`, queued now.
    pub fn new(
        kind: SupplierRequestKind,
        supplier: SupplierId,
        deadlines: SupplierDeadlines,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind,
            supplier,
            state: SupplierRequestState::PendingDelivery,
            deadlines,
            created_at: now,
            delivered_at: None,
            acknowledged_at: None,
            answered_at: None,
            delivery_attempts: 0,
            failover: false,
            breaches: Vec::new(),
        }
    }

    /// Still waiting on the supplier: not answered, failed or superseded.
    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            SupplierRequestState::PendingDelivery
                | SupplierRequestState::Delivered
                | SupplierRequestState::Acknowledged
        )
    }

    /// The deadline of `kind` still to watch: running and not yet recorded as breached.
    pub fn watched(&self, kind: DeadlineKind) -> Option<DateTime<Utc>> {
        self.running(kind)
            .filter(|_| !self.breaches.iter().any(|b| b.kind == kind))
    }

    /// The deadline of `kind` still running: not yet met by an answer.
    pub fn running(&self, kind: DeadlineKind) -> Option<DateTime<Utc>> {
        let met = match kind {
            DeadlineKind::Ack => self.acknowledged_at.is_some() || self.answered_at.is_some(),
            DeadlineKind::Decision | DeadlineKind::Credit => self.answered_at.is_some(),
        };
        (self.is_open() && !met)
            .then(|| self.deadlines.of(kind))
            .flatten()
    }
}

named_enum!(
    /// The supplier's verdict on an authorization request.
    SupplierVerdict {
        /// The return may go ahead.
        Approve => "APPROVE",
        /// The supplier refuses it.
        Reject => "REJECT",
    }
);

/// A reason the supplier gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierReason {
    /// The supplier's code.
    pub code: String,
    /// Its words.
    pub message: String,
}

/// The supplier's decision on a PENDING_SUPPLIER return (or AUTO_APPROVE's, on its behalf).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDecision {
    /// Approve or reject.
    pub verdict: SupplierVerdict,
    /// Why.
    pub reasons: Vec<SupplierReason>,
    /// Instructions for the customer.
    pub return_instructions: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    /// Made by an SLA breach action, not the supplier.
    pub automatic: bool,
    /// The supplier decided for.
    pub supplier: SupplierId,
}

/// The seller settings version and instant a decision was made under (the contract version and the
/// profile version are on the decision itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedUnder {
    /// The seller settings version (0: the defaults).
    pub settings_version: i64,
    /// When the decision was made.
    pub decided_at: DateTime<Utc>,
}

/// One return, whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    /// Its id.
    pub id: ReturnId,
    /// Where it stands.
    pub status: ReturnStatus,
    /// 1 at creation, +1 per change: the optimistic-concurrency token.
    pub version: i64,
    /// What was asked: the order facts, the lines, the reason, the evidence and comment sent.
    pub request: ReturnRequest,
    /// The seller's own reference; may be empty.
    pub external_reference: String,
    /// The decision, kept as made: later changes to settings or profiles never change it.
    pub decision: Decision,
    /// What else the decision was made under.
    pub decided: DecidedUnder,
    /// The supplier handling it now: the order's, or its backup after a failover.
    pub supplier: SupplierId,
    /// The best known label cost: the shipment's, else the estimate.
    pub label_cost: Option<Money>,
    /// Latest time to ship while AUTHORIZED and the goods must come back.
    pub ship_by: Option<DateTime<Utc>>,
    /// Evidence, in the order added (the request's first).
    pub evidence: Vec<Evidence>,
    /// Requests forwarded to suppliers, oldest first.
    pub supplier_requests: Vec<SupplierRequest>,
    /// The supplier's decision, once made.
    pub supplier_decision: Option<SupplierDecision>,
    /// The shipment back.
    pub shipment: Option<Shipment>,
    /// The receipt.
    pub receipt: Option<Receipt>,
    /// The latest inspection.
    pub inspection: Option<InspectionReport>,
    /// The resolution.
    pub resolution: Option<ResolutionRecord>,
    /// The supplier's credit.
    pub credit: Option<CreditConfirmation>,
    /// The cancellation.
    pub cancellation: Option<Cancellation>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Reached a terminal status at.
    pub closed_at: Option<DateTime<Utc>>,
}

named_enum!(
    /// What happened to a return.
    EventKind {
        /// Created and decided.
        Decided => "DECIDED",
        /// A request was queued for a supplier.
        SupplierRequestSent => "SUPPLIER_REQUEST_SENT",
        /// The supplier acknowledged a request.
        SupplierAcknowledged => "SUPPLIER_ACKNOWLEDGED",
        /// The supplier (or AUTO_APPROVE) decided.
        SupplierDecided => "SUPPLIER_DECIDED",
        /// A supplier deadline passed unanswered.
        SlaBreached => "SLA_BREACHED",
        /// Handed to the backup supplier.
        FailedOver => "FAILED_OVER",
        /// Evidence was added.
        EvidenceAdded => "EVIDENCE_ADDED",
        /// The customer shipped.
        Shipped => "SHIPPED",
        /// The goods arrived.
        Received => "RECEIVED",
        /// The goods were inspected.
        Inspected => "INSPECTED",
        /// Resolved.
        Resolved => "RESOLVED",
        /// The supplier confirmed its credit.
        CreditConfirmed => "CREDIT_CONFIRMED",
        /// Not shipped by the ship-by deadline.
        Expired => "EXPIRED",
        /// Withdrawn.
        Cancelled => "CANCELLED",
        /// Every delivery attempt of a supplier request failed.
        SupplierDeliveryFailed => "SUPPLIER_DELIVERY_FAILED",
        /// The supplier's endpoint took a request.
        SupplierRequestDelivered => "SUPPLIER_REQUEST_DELIVERED",
    }
);

/// What an event records, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventDetail {
    /// EXPIRED: nothing more.
    None,
    /// DECIDED: the decision.
    Decision,
    /// The request (index into `supplier_requests`) sent, acknowledged or answered.
    SupplierRequest(usize),
    /// SUPPLIER_DECIDED.
    SupplierDecision,
    /// SLA_BREACHED: the request (index) and the breach.
    Breach(usize, Breach),
    /// FAILED_OVER.
    FailedOver {
        /// The supplier that missed its deadline.
        from: SupplierId,
        /// The backup.
        to: SupplierId,
    },
    /// EVIDENCE_ADDED: the items added (the last ones of `evidence`).
    Evidence(Vec<Evidence>),
    /// SHIPPED.
    Shipment,
    /// RECEIVED.
    Receipt,
    /// INSPECTED: this report (a later re-inspection replaces the return's).
    Inspection(Box<InspectionReport>),
    /// RESOLVED.
    Resolution,
    /// CREDIT_CONFIRMED.
    Credit,
    /// CANCELLED.
    Cancellation,
}

/// One entry of a return's audit trail, as the change that made it saw the return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnEvent {
    /// What happened.
    pub kind: EventKind,
    /// Who did it.
    pub actor: Actor,
    /// Status before.
    pub from: ReturnStatus,
    /// Status after (equal to `from` when the status did not change).
    pub to: ReturnStatus,
    /// The return's version after it.
    pub version: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// A note for people.
    pub note: String,
    /// What changed.
    pub detail: EventDetail,
}

impl ReturnEvent {
    /// True when the event moved the return to a status where its units are free for later returns
    /// of the order (cancelled, expired, rejected).
    pub fn releases_units(&self) -> bool {
        self.from != self.to
            && matches!(
                self.to,
                ReturnStatus::Cancelled | ReturnStatus::Expired | ReturnStatus::Rejected
            )
    }
}

/// The contract, seller settings and profile a return was decided under, for its split.
#[derive(Debug, Clone, Copy)]
pub struct SplitTerms<'a> {
    /// The contract version on the decision.
    pub contract: &'a ContractVersion,
    /// The seller settings version the decision was made under.
    pub settings: &'a SellerSettings,
    /// The statutory profile of the order's jurisdiction.
    pub profile: &'a StatutoryProfile,
}

fn conflict(message: String) -> DomainError {
    DomainError::FailedPrecondition {
        reason: ErrorReason::ReturnStatusConflict,
        message,
    }
}

impl Return {
    /// A return decided now: AUTHORIZED, PENDING_SUPPLIER or REJECTED as `decision` says, with the
    /// supplier's notice or authorization request queued unless rejected.
    pub fn decide(
        id: ReturnId,
        request: ReturnRequest,
        external_reference: String,
        decision: Decision,
        decided: DecidedUnder,
        actor: &Actor,
    ) -> (Self, ReturnEvent) {
        let now = decided.decided_at;
        let status = match decision.outcome {
            Outcome::Authorized => ReturnStatus::Authorized,
            Outcome::PendingSupplier => ReturnStatus::PendingSupplier,
            Outcome::Rejected => ReturnStatus::Rejected,
        };
        let supplier = request.order.supplier;
        let supplier_requests = if status == ReturnStatus::Rejected {
            Vec::new()
        } else {
            let kind = if status == ReturnStatus::PendingSupplier {
                SupplierRequestKind::AuthorizationRequest
            } else {
                SupplierRequestKind::Notice
            };
            let deadlines = SupplierDeadlines {
                ack_by: decision.deadlines.supplier_ack_by,
                decide_by: decision.deadlines.supplier_decide_by,
                credit_by: None,
            };
            vec![SupplierRequest::new(kind, supplier, deadlines, now)]
        };
        let ship_by = (status == ReturnStatus::Authorized && decision.return_required)
            .then_some(decision.deadlines.customer_ship_by)
            .flatten();
        let evidence = request
            .evidence
            .iter()
            .map(|uri| Evidence {
                uri: uri.clone(),
                description: String::new(),
                added_at: now,
                added_by: actor.clone(),
            })
            .collect();
        let ret = Self {
            id,
            status,
            version: 1,
            label_cost: request.label_cost_estimate,
            external_reference,
            decision,
            decided,
            supplier,
            ship_by,
            evidence,
            supplier_requests,
            supplier_decision: None,
            shipment: None,
            receipt: None,
            inspection: None,
            resolution: None,
            credit: None,
            cancellation: None,
            created_at: now,
            updated_at: now,
            closed_at: status.is_terminal().then_some(now),
            request,
        };
        let event = ReturnEvent {
            kind: EventKind::Decided,
            actor: actor.clone(),
            from: ReturnStatus::Requested,
            to: status,
            version: 1,
            at: now,
            note: String::new(),
            detail: EventDetail::Decision,
        };
        (ret, event)
    }

    /// The units coming back (empty when rejected, nothing was reserved).
    pub fn items(&self) -> &[ReturnItem] {
        &self.request.items
    }

    /// The open supplier request, if one is waiting on the supplier.
    pub fn open_request(&self) -> Option<&SupplierRequest> {
        self.supplier_requests.iter().rev().find(|r| r.is_open())
    }

    /// What the customer paid for the returned units (`None` on overflow, which the order's own
    /// checks make impossible).
    pub fn returned_price(&self) -> Option<Money> {
        let order = &self.request.order;
        let minor = self.request.items.iter().try_fold(0i64, |sum, item| {
            let line = order.line(&item.sku)?;
            sum.checked_add(
                line.unit_price
                    .amount_minor
                    .checked_mul(i64::from(item.quantity))?,
            )
        })?;
        Some(Money::new(order.currency, minor))
    }

    /// Moves the return by `transition` (or keeps its status for `None`, refused once final), and
    /// stamps the change. Every change goes through here.
    fn change(
        &mut self,
        transition: Option<Transition>,
        kind: EventKind,
        actor: &Actor,
        now: DateTime<Utc>,
        note: String,
        detail: EventDetail,
    ) -> Result<ReturnEvent, DomainError> {
        let from = self.status;
        let to = match transition {
            Some(t) => t.apply(from)?,
            None if from.is_terminal() => {
                return Err(conflict(format!(
                    "the return is {from}, a final status: it can no longer change"
                )));
            }
            None => from,
        };
        self.status = to;
        self.version += 1;
        self.updated_at = now;
        if to.is_terminal() && from != to {
            self.closed_at = Some(now);
        }
        if to != ReturnStatus::Authorized {
            self.ship_by = None;
        }
        Ok(ReturnEvent {
            kind,
            actor: actor.clone(),
            from,
            to,
            version: self.version,
            at: now,
            note,
            detail,
        })
    }

    /// An amount must be in the order's currency and not negative.
    fn check_amount(&self, m: Option<&Money>, field: &str, v: &mut Violations) {
        let Some(m) = m else { return };
        let currency = self.request.order.currency;
        v.check(
            m.currency == currency,
            format!("{field}.currency_code"),
            format!("must be {currency}, the order's currency: one return has one currency"),
        );
        v.check(
            m.amount_minor >= 0,
            format!("{field}.amount_minor"),
            "must not be negative",
        );
    }

    /// SKUs must be returned lines, with no more units than the return holds.
    fn check_items<'a>(
        &self,
        items: impl IntoIterator<Item = (&'a Sku, u32)>,
        field: &str,
        v: &mut Violations,
    ) {
        for (i, (sku, quantity)) in items.into_iter().enumerate() {
            match self.request.items.iter().find(|r| &r.sku == sku) {
                None => v.add(format!("{field}[{i}].sku"), "is not a line of this return"),
                Some(r) if quantity < 1 || quantity > r.quantity => v.add(
                    format!("{field}[{i}].quantity"),
                    format!("must be between 1 and the {} units returned", r.quantity),
                ),
                Some(_) => {}
            }
        }
    }

    /// AUTHORIZED -> IN_TRANSIT.
    pub fn ship(
        &mut self,
        shipment: Shipment,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let mut v = Violations::default();
        self.check_amount(shipment.label_cost.as_ref(), "shipment.label_cost", &mut v);
        v.finish()?;
        let actor = shipment.recorded_by.clone();
        let event = self.change(
            Some(Transition::Ship),
            EventKind::Shipped,
            &actor,
            now,
            String::new(),
            EventDetail::Shipment,
        )?;
        if shipment.label_cost.is_some() {
            self.label_cost = shipment.label_cost;
        }
        self.shipment = Some(shipment);
        Ok(event)
    }

    /// IN_TRANSIT -> RECEIVED. A receipt naming no lines received every returned line.
    pub fn receive(
        &mut self,
        mut receipt: Receipt,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let mut v = Violations::default();
        self.check_items(
            receipt.items.iter().map(|i| (&i.sku, i.quantity)),
            "receipt.items",
            &mut v,
        );
        v.finish()?;
        if receipt.items.is_empty() {
            receipt.items = self.request.items.clone();
        }
        let actor = receipt.recorded_by.clone();
        let event = self.change(
            Some(Transition::Receive),
            EventKind::Received,
            &actor,
            now,
            String::new(),
            EventDetail::Receipt,
        )?;
        self.receipt = Some(receipt);
        Ok(event)
    }

    /// RECEIVED or INSPECTED -> INSPECTED (a re-inspection replaces a wrong report).
    pub fn inspect(
        &mut self,
        report: InspectionReport,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let mut v = Violations::default();
        self.check_items(
            report.items.iter().map(|i| (&i.sku, i.quantity)),
            "inspection.items",
            &mut v,
        );
        self.check_amount(
            report.damage_deduction.as_ref(),
            "inspection.damage_deduction",
            &mut v,
        );
        // A deduction above what the goods cost would make every later split impossible, so it is
        // refused here rather than at resolution.
        if let (Some(d), Some(max)) = (&report.damage_deduction, self.returned_price()) {
            v.check(
                d.amount_minor <= max.amount_minor,
                "inspection.damage_deduction.amount_minor",
                format!(
                    "must be at most {} (minor units), the price of the returned units: a deduction \
                     withholds part of the refund, never more",
                    max.amount_minor
                ),
            );
        }
        v.finish()?;
        let actor = report.recorded_by.clone();
        let event = self.change(
            Some(Transition::Inspect),
            EventKind::Inspected,
            &actor,
            now,
            String::new(),
            EventDetail::Inspection(Box::new(report.clone())),
        )?;
        self.inspection = Some(report);
        Ok(event)
    }

    /// Adds evidence; the status stays.
    pub fn add_evidence(
        &mut self,
        added: Vec<Evidence>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let mut v = Violations::default();
        v.check(
            self.evidence.len() + added.len() <= MAX_EVIDENCE,
            "evidence",
            format!(
                "a return holds at most {MAX_EVIDENCE} evidence items; it has {}",
                self.evidence.len()
            ),
        );
        v.finish()?;
        let event = self.change(
            None,
            EventKind::EvidenceAdded,
            actor,
            now,
            String::new(),
            EventDetail::Evidence(added.clone()),
        )?;
        self.evidence.extend(added);
        Ok(event)
    }

    /// The supplier confirms it credited the seller: recorded once the goods are back (received,
    /// inspected or resolved), without a status change; an open credit request is answered by it.
    pub fn confirm_credit(
        &mut self,
        credit: CreditConfirmation,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let mut v = Violations::default();
        self.check_amount(Some(&credit.amount), "amount", &mut v);
        v.check(
            credit.amount.amount_minor > 0,
            "amount.amount_minor",
            "must be more than zero",
        );
        v.finish()?;
        if !matches!(
            self.status,
            ReturnStatus::Received | ReturnStatus::Inspected | ReturnStatus::Resolved
        ) {
            return Err(DomainError::StatusConflict {
                current: self.status.as_str(),
                message: format!(
                    "the return is {}; a credit is confirmed once the goods are back (RECEIVED, \
                     INSPECTED or RESOLVED)",
                    self.status
                ),
            });
        }
        if self.credit.is_some() {
            return Err(DomainError::FailedPrecondition {
                reason: ErrorReason::AlreadyAnswered,
                message: "the credit was confirmed already".into(),
            });
        }
        // Recorded on a resolved return too: the credit follows the resolution, it changes no status.
        let from = self.status;
        self.version += 1;
        self.updated_at = now;
        for request in self.supplier_requests.iter_mut().filter(|r| {
            r.kind == SupplierRequestKind::CreditRequest
                && r.supplier == self.supplier
                && r.is_open()
        }) {
            request.answered_at = Some(now);
            request.state = SupplierRequestState::Answered;
        }
        let event = ReturnEvent {
            kind: EventKind::CreditConfirmed,
            actor: credit.recorded_by.clone(),
            from,
            to: from,
            version: self.version,
            at: now,
            note: String::new(),
            detail: EventDetail::Credit,
        };
        self.credit = Some(credit);
        Ok(event)
    }

    /// The supplier's endpoint took request `id` on attempt `attempts`. Only the first delivery is
    /// recorded: a redelivery the supplier deduplicates changes nothing (ALREADY_ANSWERED).
    pub fn delivered(
        &mut self,
        id: Uuid,
        attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let index = self.request_index(id)?;
        if self.supplier_requests[index].delivered_at.is_some() {
            return Err(DomainError::FailedPrecondition {
                reason: ErrorReason::AlreadyAnswered,
                message: "the request was delivered already".into(),
            });
        }
        let status = self.status;
        self.version += 1;
        self.updated_at = now;
        let request = &mut self.supplier_requests[index];
        request.delivered_at = Some(now);
        request.delivery_attempts = attempts;
        if request.state == SupplierRequestState::PendingDelivery {
            request.state = SupplierRequestState::Delivered;
        }
        Ok(ReturnEvent {
            kind: EventKind::SupplierRequestDelivered,
            actor: Actor::system(),
            from: status,
            to: status,
            version: self.version,
            at: now,
            note: String::new(),
            detail: EventDetail::SupplierRequest(index),
        })
    }

    /// Every delivery attempt of request `id` failed: the seller is told (the event); the status and
    /// the request's deadlines stay, since an operator may redeliver it.
    pub fn delivery_failed(
        &mut self,
        id: Uuid,
        attempts: u32,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let index = self.request_index(id)?;
        // Recorded on a closed return too: the seller still needs to know the supplier never heard.
        let status = self.status;
        self.version += 1;
        self.updated_at = now;
        self.supplier_requests[index].delivery_attempts = attempts;
        Ok(ReturnEvent {
            kind: EventKind::SupplierDeliveryFailed,
            actor: Actor::system(),
            from: status,
            to: status,
            version: self.version,
            at: now,
            note: format!("{attempts} delivery attempts failed"),
            detail: EventDetail::SupplierRequest(index),
        })
    }

    /// Any open status -> CANCELLED.
    pub fn cancel(&mut self, cancellation: Cancellation) -> Result<ReturnEvent, DomainError> {
        let actor = cancellation.cancelled_by.clone();
        let event = self.change(
            Some(Transition::Cancel),
            EventKind::Cancelled,
            &actor,
            cancellation.cancelled_at,
            cancellation.reason.clone(),
            EventDetail::Cancellation,
        )?;
        self.cancellation = Some(cancellation);
        Ok(event)
    }

    /// AUTHORIZED past its ship-by deadline -> EXPIRED.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<ReturnEvent, DomainError> {
        if self.status != ReturnStatus::Authorized || self.ship_by.is_none_or(|by| by > now) {
            return Err(DomainError::FailedPrecondition {
                reason: ErrorReason::ReturnNotOverdue,
                message: "the return is no longer awaiting shipment past its deadline".into(),
            });
        }
        self.change(
            Some(Transition::Expire),
            EventKind::Expired,
            &Actor::system(),
            now,
            "not shipped by the ship-by deadline".into(),
            EventDetail::None,
        )
    }

    /// Resolves the return: checks the ask, splits its cost under the terms it was decided under
    /// (its own decision, never a new one), and records the resolution. Goods that are not coming
    /// back (returnless refund, compensation claim, keep-with-allowance) resolve straight from
    /// AUTHORIZED; everything else after inspection.
    pub fn resolve(
        &mut self,
        ask: ResolutionAsk,
        terms: &SplitTerms<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
        note: String,
    ) -> Result<(ReturnEvent, LiabilitySplit), DomainError> {
        let mut v = Violations::default();
        self.check_items(
            ask.items.iter().map(|i| (&i.sku, i.quantity)),
            "resolution.items",
            &mut v,
        );
        if let Resolution::PartialRefund { allowance } = &ask.resolution {
            self.check_amount(Some(allowance), "resolution.allowance", &mut v);
        }
        self.check_amount(ask.compensation.as_ref(), "resolution.compensation", &mut v);
        if let Resolution::Exchange(lines) = &ask.resolution {
            for (i, line) in lines.iter().enumerate() {
                self.check_amount(
                    Some(&line.unit_price),
                    &format!("resolution.exchange_lines[{i}].unit_price"),
                    &mut v,
                );
            }
        }
        v.finish()?;
        let without_return = self.status == ReturnStatus::Authorized
            && (self.decision.fault == FaultClass::LateDelivery
                || self.decision.returnless
                || matches!(ask.resolution, Resolution::PartialRefund { .. }));
        let transition = if without_return {
            Transition::ResolveWithoutReturn
        } else {
            Transition::Resolve
        };
        transition.apply(self.status)?;
        let items = if ask.items.is_empty() {
            self.request.items.clone()
        } else {
            ask.items.clone()
        };
        let split = liability::split(&SplitInput {
            order: &self.request.order,
            reason: self.request.reason,
            items: &items,
            decision: &self.decision,
            contract: terms.contract,
            profile: terms.profile,
            settings: terms.settings,
            resolution: &ask.resolution,
            label_cost: self.label_cost,
            label_paid_by: LabelPaidBy::Seller,
            compensation: ask.compensation,
            inspection: self
                .inspection
                .as_ref()
                .map_or(Inspection::Passed, InspectionReport::for_split),
        })
        .map_err(|e| refusal(e, "resolution"))?;
        let event = self.change(
            Some(transition),
            EventKind::Resolved,
            actor,
            now,
            note.clone(),
            EventDetail::Resolution,
        )?;
        self.resolution = Some(ResolutionRecord {
            ask,
            customer_refund: split.customer_refund,
            customer_charge: split.customer_charge,
            resolved_at: now,
            resolved_by: actor.clone(),
            note,
        });
        Ok((event, split))
    }

    /// The position of request `id`, whoever it is addressed to (for the system's own changes).
    fn request_index(&self, id: Uuid) -> Result<usize, DomainError> {
        self.supplier_requests
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| DomainError::NotFound {
                resource: crate::error::Resource::SupplierRequest,
                id: id.to_string(),
            })
    }

    /// The request `id`, if it is addressed to `supplier`; a request of another supplier is not
    /// found, so a supplier learns nothing of others' requests.
    fn request_of(&self, id: Uuid, supplier: SupplierId) -> Result<usize, DomainError> {
        self.supplier_requests
            .iter()
            .position(|r| r.id == id && r.supplier == supplier)
            .ok_or_else(|| DomainError::NotFound {
                resource: crate::error::Resource::SupplierRequest,
                id: id.to_string(),
            })
    }

    fn answerable(&self, index: usize) -> Result<(), DomainError> {
        let request = &self.supplier_requests[index];
        match request.state {
            SupplierRequestState::Superseded => Err(DomainError::FailedPrecondition {
                reason: ErrorReason::RequestSuperseded,
                message: "the request was handed to the backup supplier; it takes no answers"
                    .into(),
            }),
            SupplierRequestState::Answered => Err(DomainError::FailedPrecondition {
                reason: ErrorReason::AlreadyAnswered,
                message: "the request was answered already".into(),
            }),
            _ => Ok(()),
        }
    }

    /// The supplier acknowledges a request: its ack clock stops. A request acknowledged or answered
    /// before is ALREADY_ANSWERED, which callers treat as the same answer again.
    pub fn supplier_acknowledge(
        &mut self,
        id: Uuid,
        supplier: SupplierId,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let index = self.request_of(id, supplier)?;
        self.answerable(index)?;
        if self.supplier_requests[index].acknowledged_at.is_some() {
            return Err(DomainError::FailedPrecondition {
                reason: ErrorReason::AlreadyAnswered,
                message: "the request was acknowledged already".into(),
            });
        }
        let actor = supplier_actor(supplier);
        let event = self.change(
            None,
            EventKind::SupplierAcknowledged,
            &actor,
            now,
            String::new(),
            EventDetail::SupplierRequest(index),
        )?;
        let request = &mut self.supplier_requests[index];
        request.acknowledged_at.get_or_insert(now);
        request.state = SupplierRequestState::Acknowledged;
        Ok(event)
    }

    /// The supplier (or AUTO_APPROVE, `automatic`) decides a PENDING_SUPPLIER return. The law stands
    /// above the supplier: a rejection cannot take away a right the customer has by statute or by the
    /// seller's own policy, so such a return is AUTHORIZED with a policy gap the seller bears.
    /// An approved return that needs shipping gets its ship-by `ship_within` (the seller's setting)
    /// from the approval.
    pub fn supplier_decide(
        &mut self,
        id: Uuid,
        decision: SupplierDecision,
        ship_within: TimeDelta,
    ) -> Result<ReturnEvent, DomainError> {
        let index = self.request_of(id, decision.supplier)?;
        self.answerable(index)?;
        if self.supplier_requests[index].kind != SupplierRequestKind::AuthorizationRequest {
            return Err(DomainError::FailedPrecondition {
                reason: ErrorReason::RequestKindMismatch,
                message: format!(
                    "the request is a {}: only an AUTHORIZATION_REQUEST takes a decision",
                    self.supplier_requests[index].kind
                ),
            });
        }
        let now = decision.decided_at;
        // Entitled when the decision rests on a statute (a withdrawal right, the legal guarantee)
        // or on the seller's own policy, not on the contract alone.
        let entitled = self.decision.statutory_withdrawal
            || self.decision.policy_gap
            || matches!(
                self.decision.basis,
                Basis::Statute | Basis::Both | Basis::SellerPolicy
            );
        let transition = match decision.verdict {
            SupplierVerdict::Approve => Transition::SupplierApprove,
            SupplierVerdict::Reject if entitled => Transition::SupplierApprove,
            SupplierVerdict::Reject => Transition::SupplierReject,
        };
        let actor = if decision.automatic {
            Actor::system()
        } else {
            supplier_actor(decision.supplier)
        };
        let note = if decision.verdict == SupplierVerdict::Reject && entitled {
            "the supplier rejected, but the customer is entitled: authorized with a policy gap the \
             seller bears"
                .to_owned()
        } else {
            String::new()
        };
        let event = self.change(
            Some(transition),
            EventKind::SupplierDecided,
            &actor,
            now,
            note,
            EventDetail::SupplierDecision,
        )?;
        if transition == Transition::SupplierApprove {
            if decision.verdict == SupplierVerdict::Reject {
                self.decision.policy_gap = true;
            }
            self.ship_by = self.decision.return_required.then_some(now + ship_within);
        }
        let request = &mut self.supplier_requests[index];
        request.answered_at = Some(now);
        // A decision implies the acknowledgement.
        request.acknowledged_at.get_or_insert(now);
        request.state = SupplierRequestState::Answered;
        self.supplier_decision = Some(decision);
        Ok(event)
    }

    /// Records that the request `id` missed its `kind` deadline. Each deadline breaches once: a
    /// second call is refused, so replicas racing on one breach record it once.
    pub fn breach(
        &mut self,
        id: Uuid,
        kind: DeadlineKind,
        action: BreachAction,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let index = self.request_index(id)?;
        let request = &self.supplier_requests[index];
        let deadline = request
            .watched(kind)
            .filter(|due| *due <= now)
            .ok_or_else(|| {
                conflict(format!(
                    "the request's {kind} deadline is not running past due"
                ))
            })?;
        let breach = Breach {
            kind,
            deadline,
            recorded_at: now,
            action,
        };
        let event = self.change(
            None,
            EventKind::SlaBreached,
            &Actor::system(),
            now,
            String::new(),
            EventDetail::Breach(index, breach.clone()),
        )?;
        self.supplier_requests[index].breaches.push(breach);
        Ok(event)
    }

    /// Hands the return to `backup` after the handling supplier missed a deadline: the open request
    /// is superseded and a new one, with fresh deadlines, goes to the backup, which from now on is
    /// the return's supplier for deadlines, callbacks, the split and settlement.
    pub fn fail_over(
        &mut self,
        backup: SupplierId,
        deadlines: SupplierDeadlines,
        now: DateTime<Utc>,
    ) -> Result<ReturnEvent, DomainError> {
        let index = self
            .supplier_requests
            .iter()
            .rposition(SupplierRequest::is_open)
            .ok_or_else(|| {
                conflict("the return has no open supplier request to hand over".into())
            })?;
        let from = self.supplier;
        if backup == from {
            return Err(conflict(
                "the backup is the supplier already handling the return".into(),
            ));
        }
        let kind = self.supplier_requests[index].kind;
        let event = self.change(
            None,
            EventKind::FailedOver,
            &Actor::system(),
            now,
            String::new(),
            EventDetail::FailedOver { from, to: backup },
        )?;
        self.supplier_requests[index].state = SupplierRequestState::Superseded;
        let mut request = SupplierRequest::new(kind, backup, deadlines, now);
        request.failover = true;
        self.supplier_requests.push(request);
        self.supplier = backup;
        Ok(event)
    }
}

/// What the SLA clock needs to act on a return's missed deadlines.
#[derive(Debug, Clone, Copy)]
pub struct SlaContext<'a> {
    /// The SLA terms of the contract version the return was decided under.
    pub sla: &'a SlaTerms,
    /// The handling supplier's backup, if it has one.
    pub backup: Option<SupplierId>,
    /// The seller's time to ship, for a return AUTO_APPROVE approves.
    pub ship_within: TimeDelta,
}

impl Return {
    /// Records every watched deadline of the open requests that passed by `now`, once each, and
    /// takes the contract's breach action: NOTIFY (the breach event is the notice), AUTO_APPROVE (a
    /// pending return is approved by the system, naming the missed deadline) or FAILOVER (the
    /// request goes to the backup supplier with fresh deadlines; without a backup it notifies and
    /// says why). Returns the events, none when nothing was due.
    pub fn enforce_deadlines(
        &mut self,
        now: DateTime<Utc>,
        ctx: &SlaContext<'_>,
    ) -> Result<Vec<ReturnEvent>, DomainError> {
        let mut events = Vec::new();
        while let Some((id, kind)) = self.first_missed(now) {
            events.push(self.breach(id, kind, ctx.sla.breach_action, now)?);
            let Some(request) = self.supplier_requests.iter().find(|r| r.id == id) else {
                continue;
            };
            let (request_kind, supplier) = (request.kind, request.supplier);
            match ctx.sla.breach_action {
                BreachAction::Notify => {}
                BreachAction::AutoApprove => {
                    if self.status == ReturnStatus::PendingSupplier
                        && request_kind == SupplierRequestKind::AuthorizationRequest
                    {
                        let approval = SupplierDecision {
                            verdict: SupplierVerdict::Approve,
                            reasons: vec![SupplierReason {
                                code: "SLA_AUTO_APPROVE".into(),
                                message: format!(
                                    "the supplier missed its {kind} deadline; contract v{} \
                                     sla.breach_action=AUTO_APPROVE",
                                    self.decision.contract_version
                                ),
                            }],
                            return_instructions: String::new(),
                            decided_at: now,
                            automatic: true,
                            supplier,
                        };
                        events.push(self.supplier_decide(id, approval, ctx.ship_within)?);
                    }
                }
                BreachAction::Failover => match ctx.backup.filter(|b| *b != supplier) {
                    Some(backup) => {
                        let deadlines = SupplierDeadlines {
                            ack_by: Some(now + ctx.sla.ack_within),
                            decide_by: (request_kind == SupplierRequestKind::AuthorizationRequest)
                                .then(|| now + ctx.sla.decision_within),
                            credit_by: None,
                        };
                        events.push(self.fail_over(backup, deadlines, now)?);
                    }
                    None => {
                        if let Some(last) = events.last_mut() {
                            last.note = "FAILOVER: the supplier has no backup, so the seller is \
                                         notified instead"
                                .into();
                        }
                    }
                },
            }
        }
        Ok(events)
    }

    /// The open request and deadline kind that passed first and is not yet recorded.
    fn first_missed(&self, now: DateTime<Utc>) -> Option<(Uuid, DeadlineKind)> {
        self.supplier_requests
            .iter()
            .filter(|r| r.is_open())
            .flat_map(|r| {
                DeadlineKind::ALL
                    .iter()
                    .filter_map(move |k| Some((r.watched(*k)?, r.id, *k)))
            })
            .filter(|(due, _, _)| *due <= now)
            .min_by_key(|(due, _, _)| *due)
            .map(|(_, id, kind)| (id, kind))
    }
}

fn supplier_actor(supplier: SupplierId) -> Actor {
    Actor {
        kind: ActorKind::Supplier,
        id: supplier.to_string(),
    }
}

/// A refused split as the caller's error, naming the input at fault (`field` is the ask's path).
pub fn refusal(e: LiabilityError, field: &str) -> DomainError {
    let f = |name: &str| format!("{field}.{name}");
    match &e {
        LiabilityError::Rejected => DomainError::FailedPrecondition {
            reason: ErrorReason::ReturnRejected,
            message: "the return was rejected: nobody owes anything, so there is no split".into(),
        },
        LiabilityError::AllowanceOutOfRange { .. } => {
            DomainError::invalid(f("allowance"), e.to_string())
        }
        LiabilityError::DeductionOutOfRange { .. } => {
            DomainError::invalid("inspection.damage_deduction", e.to_string())
        }
        LiabilityError::BadItem { .. } | LiabilityError::NoItems => {
            DomainError::invalid(f("items"), e.to_string())
        }
        LiabilityError::BadExchange => DomainError::invalid(f("exchange_lines"), e.to_string()),
        LiabilityError::ResolutionNotApplicable(_) => {
            DomainError::invalid(f("resolution"), e.to_string())
        }
        LiabilityError::CurrencyMismatch { field: name, .. }
        | LiabilityError::NegativeAmount { field: name } => {
            DomainError::invalid(f(name), e.to_string())
        }
        LiabilityError::VersionMismatch { .. } | LiabilityError::Overflow => {
            DomainError::invalid(field, e.to_string())
        }
    }
}

#[cfg(test)]
#[path = "returns_tests.rs"]
mod tests;
