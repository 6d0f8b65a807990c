//! ReturnService transitions through the real server: every move docs/design.md's lifecycle allows,
//! every move it forbids (FAILED_PRECONDITION, nothing changes), and optimistic concurrency on
//! `expected_version`.

use returnbridge_proto::v1 as pb;
use returnbridge_tests::fixtures::{
    authorize, cancel_request, changed_mind, defective, error_metadata, evidence_request,
    get_return, inspect_request, partial_refund_request, receive_request, refund_request,
    return_events, seller_with_supplier, ship_request, supplier_decides_terms,
    supplier_with_contract,
};
use returnbridge_tests::{Auth, ReturnClient, TestApp, reason, spawn_app, violated_fields};
use tonic::{Code, Status};

use pb::ReturnStatus as S;

/// Everything a seller can do to an existing return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    Ship,
    Receive,
    Inspect,
    Refund,
    PartialRefund,
    Cancel,
    AddEvidence,
}

const MOVES: [Move; 7] = [
    Move::Ship,
    Move::Receive,
    Move::Inspect,
    Move::Refund,
    Move::PartialRefund,
    Move::Cancel,
    Move::AddEvidence,
];

impl Move {
    /// The status the move leads to from `from`, or `None` when the lifecycle forbids it.
    fn target(self, from: S) -> Option<S> {
        use Move::*;
        match (from, self) {
            (S::Authorized, Ship) => Some(S::InTransit),
            (S::InTransit, Receive) => Some(S::Received),
            // Inspecting again corrects the report before resolution.
            (S::Received | S::Inspected, Inspect) => Some(S::Inspected),
            (S::Inspected, Refund | PartialRefund) => Some(S::Resolved),
            // Keep-with-allowance: the goods never come back.
            (S::Authorized, PartialRefund) => Some(S::Resolved),
            (
                S::Authorized | S::PendingSupplier | S::InTransit | S::Received | S::Inspected,
                Cancel,
            ) => Some(S::Cancelled),
            (
                S::Authorized | S::PendingSupplier | S::InTransit | S::Received | S::Inspected,
                AddEvidence,
            ) => Some(from),
            _ => None,
        }
    }

    fn event_type(self) -> pb::ReturnEventType {
        use pb::ReturnEventType as T;
        match self {
            Move::Ship => T::Shipped,
            Move::Receive => T::Received,
            Move::Inspect => T::Inspected,
            Move::Refund | Move::PartialRefund => T::Resolved,
            Move::Cancel => T::Cancelled,
            Move::AddEvidence => T::EvidenceAdded,
        }
    }

    async fn attempt(
        self,
        c: &mut ReturnClient,
        id: &str,
        expected_version: i64,
    ) -> Result<pb::Return, Status> {
        let found = match self {
            Move::Ship => {
                c.record_shipment(ship_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
            Move::Receive => {
                c.record_receipt(receive_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
            Move::Inspect => {
                c.record_inspection(inspect_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
            Move::Refund => {
                c.resolve_return(refund_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
            Move::PartialRefund => {
                c.resolve_return(partial_refund_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
            Move::Cancel => {
                c.cancel_return(cancel_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
            Move::AddEvidence => {
                c.add_evidence(evidence_request(id, expected_version))
                    .await?
                    .into_inner()
                    .return_case
            }
        };
        Ok(found.expect("return_case"))
    }
}

/// A seller with two suppliers: one that auto-authorizes, one that decides every return first.
struct Seller {
    key: String,
    supplier: String,
    deciding_supplier: String,
    orders: std::cell::Cell<u32>,
}

impl Seller {
    async fn new(app: &TestApp, tenant: &str) -> Self {
        let (key, supplier) = seller_with_supplier(app, tenant).await;
        let mut contracts = app.contracts(Auth::key(&key));
        let deciding_supplier =
            supplier_with_contract(&mut contracts, supplier_decides_terms()).await;
        Self {
            key,
            supplier,
            deciding_supplier,
            orders: std::cell::Cell::new(0),
        }
    }

    fn client(&self, app: &TestApp) -> ReturnClient {
        app.returns(Auth::key(&self.key))
    }

    fn next_order(&self) -> String {
        self.orders.set(self.orders.get() + 1);
        format!("ORDER-{}", self.orders.get())
    }

    /// A new return brought to `status` through the API, each on its own order.
    async fn return_in(&self, app: &TestApp, status: S) -> pb::Return {
        let order = self.next_order();
        let mut c = self.client(app);
        let authorized = || authorize(app, &self.key, changed_mind(&self.supplier, &order));
        let r = match status {
            S::Authorized => authorized().await,
            S::PendingSupplier => {
                // A covered supplier-fault claim waits for a supplier that decides first.
                let evidence = ["https://photos.example/broken.jpg"];
                authorize(
                    app,
                    &self.key,
                    defective(&self.deciding_supplier, &order, &evidence),
                )
                .await
            }
            S::Rejected => authorize(app, &self.key, defective(&self.supplier, &order, &[])).await,
            S::Cancelled => {
                let r = authorized().await;
                Move::Cancel.attempt(&mut c, &r.return_id, 1).await.unwrap()
            }
            S::InTransit | S::Received | S::Inspected | S::Resolved => {
                let mut r = authorized().await;
                let path = [Move::Ship, Move::Receive, Move::Inspect, Move::Refund];
                for m in path {
                    r = m.attempt(&mut c, &r.return_id, r.version).await.unwrap();
                    if r.status == status as i32 {
                        break;
                    }
                }
                r
            }
            other => panic!("no path to {other:?} here"),
        };
        assert_eq!(r.status, status as i32, "{r:#?}");
        r
    }
}

const OPEN: [S; 5] = [
    S::Authorized,
    S::PendingSupplier,
    S::InTransit,
    S::Received,
    S::Inspected,
];
const FINAL: [S; 3] = [S::Rejected, S::Resolved, S::Cancelled];

/// Applies every move `from` allows to a fresh return in `from` and checks status, version, event.
async fn every_allowed_move_from(app: &TestApp, seller: &Seller, from: S) {
    let mut c = seller.client(app);
    for m in MOVES {
        let Some(to) = m.target(from) else { continue };
        let before = seller.return_in(app, from).await;
        let after = m
            .attempt(&mut c, &before.return_id, before.version)
            .await
            .unwrap_or_else(|e| panic!("{m:?} from {from:?}: {e:?}"));
        assert_eq!(after.status, to as i32, "{m:?} from {from:?}");
        assert_eq!(after.version, before.version + 1, "{m:?} from {from:?}");
        assert_eq!(
            after.close_time.is_some(),
            matches!(to, S::Resolved | S::Cancelled),
            "{m:?} from {from:?}"
        );
        let reread = get_return(app, &seller.key, &before.return_id).await;
        assert_eq!(
            reread, after,
            "{m:?} from {from:?}: the answer is what is stored"
        );

        let events = return_events(app, &seller.key, &before.return_id).await;
        let last = events.last().unwrap();
        assert_eq!(
            last.event_type,
            m.event_type() as i32,
            "{m:?} from {from:?}"
        );
        assert_eq!(last.from_status, from as i32, "{m:?} from {from:?}");
        assert_eq!(last.to_status, to as i32, "{m:?} from {from:?}");
        assert_eq!(last.return_version, after.version, "{m:?} from {from:?}");
        assert_eq!(last.return_id, before.return_id);
    }
}

/// Tries every move `from` forbids on one return in `from`: each is a status conflict, and the
/// return and its trail stay exactly as they were.
async fn every_forbidden_move_from(app: &TestApp, seller: &Seller, from: S) {
    let mut c = seller.client(app);
    let before = seller.return_in(app, from).await;
    let trail = return_events(app, &seller.key, &before.return_id).await;
    for m in MOVES {
        if m.target(from).is_some() {
            continue;
        }
        for expected_version in [before.version, 0] {
            let err = m
                .attempt(&mut c, &before.return_id, expected_version)
                .await
                .expect_err(&format!("{m:?} from {from:?} must be refused"));
            assert_eq!(err.code(), Code::FailedPrecondition, "{m:?} from {from:?}");
            assert_eq!(
                reason(&err),
                "RETURN_STATUS_CONFLICT",
                "{m:?} from {from:?}"
            );
        }
        let after = get_return(app, &seller.key, &before.return_id).await;
        assert_eq!(after.version, before.version, "{m:?} from {from:?}");
        assert_eq!(after.status, before.status, "{m:?} from {from:?}");
        assert_eq!(after, before, "{m:?} from {from:?} changed the return");
    }
    assert_eq!(
        return_events(app, &seller.key, &before.return_id).await,
        trail,
        "refused moves append no event"
    );
}

#[tokio::test]
async fn an_authorized_return_can_be_shipped_kept_with_an_allowance_cancelled_or_given_evidence() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    every_allowed_move_from(&app, &seller, S::Authorized).await;
}

#[tokio::test]
async fn a_return_in_transit_can_be_received_cancelled_or_given_evidence() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    every_allowed_move_from(&app, &seller, S::InTransit).await;
}

#[tokio::test]
async fn a_received_return_can_be_inspected_cancelled_or_given_evidence() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    every_allowed_move_from(&app, &seller, S::Received).await;
}

#[tokio::test]
async fn an_inspected_return_can_be_refunded_partially_refunded_reinspected_cancelled_or_given_evidence()
 {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    every_allowed_move_from(&app, &seller, S::Inspected).await;
}

#[tokio::test]
async fn a_return_pending_the_suppliers_decision_can_only_be_cancelled_or_given_evidence() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    let pending = seller.return_in(&app, S::PendingSupplier).await;
    let decision = pending.decision.clone().unwrap();
    assert_eq!(
        decision.outcome,
        pb::DecisionOutcome::PendingSupplier as i32
    );
    assert!(decision.supplier_decide_by.is_some());
    assert!(
        pending.ship_by.is_none(),
        "nothing to ship before the supplier decides"
    );
    every_allowed_move_from(&app, &seller, S::PendingSupplier).await;
    every_forbidden_move_from(&app, &seller, S::PendingSupplier).await;
}

#[tokio::test]
async fn a_return_runs_the_whole_lifecycle_one_version_and_one_event_per_step() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    let mut c = seller.client(&app);
    let mut r = seller.return_in(&app, S::Authorized).await;
    assert_eq!(r.version, 1);
    for (m, to) in [
        (Move::Ship, S::InTransit),
        (Move::Receive, S::Received),
        (Move::Inspect, S::Inspected),
        (Move::Refund, S::Resolved),
    ] {
        let next = m.attempt(&mut c, &r.return_id, r.version).await.unwrap();
        assert_eq!(next.status, to as i32);
        assert_eq!(next.version, r.version + 1);
        r = next;
    }
    assert!(r.shipment.is_some() && r.receipt.is_some() && r.inspection.is_some());
    assert!(r.resolution.is_some() && r.close_time.is_some());
    let events = return_events(&app, &seller.key, &r.return_id).await;
    let steps: Vec<_> = events
        .iter()
        .map(|e| (e.from_status, e.to_status, e.return_version))
        .collect();
    assert_eq!(
        steps,
        [
            (S::Requested as i32, S::Authorized as i32, 1),
            (S::Authorized as i32, S::InTransit as i32, 2),
            (S::InTransit as i32, S::Received as i32, 3),
            (S::Received as i32, S::Inspected as i32, 4),
            (S::Inspected as i32, S::Resolved as i32, 5),
        ]
    );
    assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
}

#[tokio::test]
async fn an_authorized_return_resolves_as_a_partial_refund_without_the_goods_coming_back() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    let mut c = seller.client(&app);
    let r = seller.return_in(&app, S::Authorized).await;
    let resolved = Move::PartialRefund
        .attempt(&mut c, &r.return_id, 1)
        .await
        .unwrap();
    assert_eq!(resolved.status, S::Resolved as i32);
    assert!(resolved.shipment.is_none());
    let spec = resolved.resolution.unwrap().spec.unwrap();
    assert_eq!(spec.resolution, pb::Resolution::PartialRefund as i32);
    // A full refund, by contrast, needs the goods back and inspected first.
    let other = seller.return_in(&app, S::Authorized).await;
    let err = Move::Refund
        .attempt(&mut c, &other.return_id, 1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(reason(&err), "RETURN_STATUS_CONFLICT");
}

#[tokio::test]
async fn forbidden_moves_on_authorized_in_transit_and_received_returns_conflict_and_change_nothing()
{
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    for from in [S::Authorized, S::InTransit, S::Received] {
        every_forbidden_move_from(&app, &seller, from).await;
    }
}

#[tokio::test]
async fn forbidden_moves_on_an_inspected_return_conflict_and_change_nothing() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    every_forbidden_move_from(&app, &seller, S::Inspected).await;
}

#[tokio::test]
async fn nothing_moves_a_rejected_resolved_or_cancelled_return() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    for from in FINAL {
        every_forbidden_move_from(&app, &seller, from).await;
    }
    // Open states each allow a cancellation; final ones allow nothing at all.
    for from in OPEN {
        assert_eq!(Move::Cancel.target(from), Some(S::Cancelled));
    }
}

#[tokio::test]
async fn a_stale_expected_version_is_aborted_with_the_current_version_and_changes_nothing() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    let mut c = seller.client(&app);
    let r = seller.return_in(&app, S::InTransit).await;
    assert_eq!(r.version, 2);
    for m in [Move::Receive, Move::Cancel, Move::AddEvidence] {
        let err = m.attempt(&mut c, &r.return_id, 1).await.unwrap_err();
        assert_eq!(err.code(), Code::Aborted, "{m:?}");
        assert_eq!(reason(&err), "VERSION_CONFLICT", "{m:?}");
        let meta = error_metadata(&err);
        assert_eq!(meta.get("current_version").map(String::as_str), Some("2"));
        assert_eq!(meta.get("expected_version").map(String::as_str), Some("1"));
    }
    // A version from the future is just as stale.
    let err = Move::Receive
        .attempt(&mut c, &r.return_id, 7)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    assert_eq!(get_return(&app, &seller.key, &r.return_id).await, r);
    assert_eq!(
        return_events(&app, &seller.key, &r.return_id).await.len(),
        2
    );

    // Retrying with the version the conflict named succeeds.
    let received = Move::Receive
        .attempt(&mut c, &r.return_id, 2)
        .await
        .unwrap();
    assert_eq!(received.status, S::Received as i32);
}

#[tokio::test]
async fn expected_version_zero_skips_the_check_and_a_negative_one_is_invalid() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    let mut c = seller.client(&app);
    let r = seller.return_in(&app, S::Authorized).await;
    let err = Move::Ship
        .attempt(&mut c, &r.return_id, -1)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["expected_version"]);
    let shipped = Move::Ship.attempt(&mut c, &r.return_id, 0).await.unwrap();
    assert_eq!(shipped.status, S::InTransit as i32);
    assert_eq!(shipped.version, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shipments_raced_on_the_same_version_let_exactly_one_through() {
    let app = spawn_app().await;
    let seller = Seller::new(&app, "acme").await;
    for _ in 0..3 {
        let r = seller.return_in(&app, S::Authorized).await;
        let race = |carrier: &'static str| {
            let mut c = seller.client(&app);
            let id = r.return_id.clone();
            tokio::spawn(async move {
                let mut req = ship_request(&id, 1);
                req.shipment.as_mut().unwrap().carrier = carrier.into();
                c.record_shipment(req).await.map(|r| r.into_inner())
            })
        };
        let (a, b) = (race("DHL"), race("UPS"));
        let results = [a.await.unwrap(), b.await.unwrap()];
        let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        let lost: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(won.len(), 1, "{results:?}");
        assert_eq!(lost.len(), 1, "{results:?}");
        assert_eq!(lost[0].code(), Code::Aborted);
        assert_eq!(reason(lost[0]), "VERSION_CONFLICT");
        assert_eq!(
            error_metadata(lost[0])
                .get("current_version")
                .map(String::as_str),
            Some("2")
        );

        let winner = won[0].return_case.clone().unwrap();
        let stored = get_return(&app, &seller.key, &r.return_id).await;
        assert_eq!(stored, winner);
        assert_eq!(stored.version, 2);
        let shipped: Vec<_> = return_events(&app, &seller.key, &r.return_id)
            .await
            .into_iter()
            .filter(|e| e.event_type == pb::ReturnEventType::Shipped as i32)
            .collect();
        assert_eq!(shipped.len(), 1, "one shipment event, the winner's");
    }
}
