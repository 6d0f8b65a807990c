//! The return state machine of docs/design.md:
//!
//! ```text
//! REQUESTED -> AUTHORIZED | PENDING_SUPPLIER | REJECTED
//! PENDING_SUPPLIER -> AUTHORIZED | REJECTED
//! AUTHORIZED -> IN_TRANSIT -> RECEIVED -> INSPECTED -> RESOLVED ; INSPECTED -> INSPECTED (re-inspection)
//! AUTHORIZED -> RESOLVED (no return needed) ; AUTHORIZED -> EXPIRED ; any non-terminal -> CANCELLED
//! ```

use crate::error::DomainError;

named_enum!(
    /// Where a return stands.
    ReturnStatus {
        /// Received, not yet decided (transient: the decision is made in the same call).
        Requested => "REQUESTED",
        /// The customer may send the goods back (or is refunded without a return).
        Authorized => "AUTHORIZED",
        /// Waiting for the supplier's decision.
        PendingSupplier => "PENDING_SUPPLIER",
        /// Refused; terminal.
        Rejected => "REJECTED",
        /// Shipped back by the customer.
        InTransit => "IN_TRANSIT",
        /// Arrived at the supplier (or the seller's returns address).
        Received => "RECEIVED",
        /// Inspected; ready to resolve.
        Inspected => "INSPECTED",
        /// Refunded, credited, exchanged or replaced; terminal.
        Resolved => "RESOLVED",
        /// The customer did not ship by the ship-by deadline; terminal.
        Expired => "EXPIRED",
        /// Withdrawn; terminal.
        Cancelled => "CANCELLED",
    }
);

impl ReturnStatus {
    /// No transition leaves a terminal status.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ReturnStatus::Rejected
                | ReturnStatus::Resolved
                | ReturnStatus::Expired
                | ReturnStatus::Cancelled
        )
    }
}

/// Something that moves a return on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The supplier (or its SLA breach action) approved a pending return.
    SupplierApprove,
    /// The supplier rejected a pending return.
    SupplierReject,
    /// The customer shipped the goods.
    Ship,
    /// The goods arrived.
    Receive,
    /// The goods were inspected.
    Inspect,
    /// Resolved after inspection.
    Resolve,
    /// Resolved with no goods coming back: returnless refund, compensation claim, keep-with-allowance.
    ResolveWithoutReturn,
    /// The ship-by deadline passed without a shipment.
    Expire,
    /// Withdrawn by the seller.
    Cancel,
}

impl Transition {
    /// What the transition is called in errors (the RPC people know).
    fn name(self) -> &'static str {
        match self {
            Transition::SupplierApprove => "a supplier approval",
            Transition::SupplierReject => "a supplier rejection",
            Transition::Ship => "a shipment",
            Transition::Receive => "a receipt",
            Transition::Inspect => "an inspection",
            Transition::Resolve | Transition::ResolveWithoutReturn => "a resolution",
            Transition::Expire => "expiry",
            Transition::Cancel => "a cancellation",
        }
    }

    /// The statuses it may start from.
    fn allowed_from(self) -> &'static [ReturnStatus] {
        use ReturnStatus::*;
        match self {
            Transition::SupplierApprove | Transition::SupplierReject => &[PendingSupplier],
            Transition::Ship => &[Authorized],
            Transition::Receive => &[InTransit],
            // Inspecting again replaces a wrong report before resolution; the trail keeps both.
            Transition::Inspect => &[Received, Inspected],
            Transition::Resolve => &[Inspected],
            Transition::ResolveWithoutReturn => &[Authorized],
            Transition::Expire => &[Authorized],
            Transition::Cancel => &[
                Requested,
                Authorized,
                PendingSupplier,
                InTransit,
                Received,
                Inspected,
            ],
        }
    }

    /// The status it leads to.
    fn target(self) -> ReturnStatus {
        match self {
            Transition::SupplierApprove => ReturnStatus::Authorized,
            Transition::SupplierReject => ReturnStatus::Rejected,
            Transition::Ship => ReturnStatus::InTransit,
            Transition::Receive => ReturnStatus::Received,
            Transition::Inspect => ReturnStatus::Inspected,
            Transition::Resolve | Transition::ResolveWithoutReturn => ReturnStatus::Resolved,
            Transition::Expire => ReturnStatus::Expired,
            Transition::Cancel => ReturnStatus::Cancelled,
        }
    }

    /// The status after the transition, or FAILED_PRECONDITION naming the current status and the
    /// statuses that would allow it.
    pub fn apply(self, from: ReturnStatus) -> Result<ReturnStatus, DomainError> {
        let allowed = self.allowed_from();
        if allowed.contains(&from) {
            return Ok(self.target());
        }
        let names: Vec<_> = allowed.iter().map(|s| s.as_str()).collect();
        Err(DomainError::StatusConflict {
            current: from.as_str(),
            message: format!(
                "the return is {from}; {} is accepted only while it is {}",
                self.name(),
                names.join(" or ")
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ReturnStatus::*;
    use super::*;

    const TRANSITIONS: [Transition; 9] = [
        Transition::SupplierApprove,
        Transition::SupplierReject,
        Transition::Ship,
        Transition::Receive,
        Transition::Inspect,
        Transition::Resolve,
        Transition::ResolveWithoutReturn,
        Transition::Expire,
        Transition::Cancel,
    ];

    #[test]
    fn the_happy_path_runs_from_authorized_to_resolved() {
        let mut s = Authorized;
        for t in [
            Transition::Ship,
            Transition::Receive,
            Transition::Inspect,
            Transition::Resolve,
        ] {
            s = t.apply(s).unwrap();
        }
        assert_eq!(s, Resolved);
    }

    #[test]
    fn pending_returns_go_to_authorized_or_rejected_by_the_supplier() {
        assert_eq!(
            Transition::SupplierApprove.apply(PendingSupplier),
            Ok(Authorized)
        );
        assert_eq!(
            Transition::SupplierReject.apply(PendingSupplier),
            Ok(Rejected)
        );
    }

    #[test]
    fn nothing_leaves_a_terminal_status() {
        for &from in ReturnStatus::ALL.iter().filter(|s| s.is_terminal()) {
            for t in TRANSITIONS {
                assert!(t.apply(from).is_err(), "{t:?} from {from}");
            }
        }
    }

    #[test]
    fn every_non_terminal_status_can_be_cancelled() {
        for &from in ReturnStatus::ALL.iter().filter(|s| !s.is_terminal()) {
            assert_eq!(Transition::Cancel.apply(from), Ok(Cancelled), "{from}");
        }
    }

    #[test]
    fn only_authorized_returns_expire_or_resolve_without_a_return() {
        for &from in ReturnStatus::ALL {
            assert_eq!(Transition::Expire.apply(from).is_ok(), from == Authorized);
            assert_eq!(
                Transition::ResolveWithoutReturn.apply(from).is_ok(),
                from == Authorized
            );
        }
    }

    #[test]
    fn an_inspected_return_can_be_inspected_again_to_correct_the_report() {
        assert_eq!(Transition::Inspect.apply(Inspected), Ok(Inspected));
        assert!(Transition::Inspect.apply(InTransit).is_err());
    }

    #[test]
    fn a_forbidden_transition_names_the_current_status() {
        match Transition::Ship.apply(InTransit) {
            Err(DomainError::StatusConflict { current, message }) => {
                assert_eq!(current, "IN_TRANSIT");
                assert!(message.contains("AUTHORIZED"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for &s in ReturnStatus::ALL {
            assert_eq!(ReturnStatus::parse(s.as_str()), Ok(s));
        }
    }
}
