//! Conformance cases for delivering the outbox: claims and their leases, attempt records, failed
//! rows and their redelivery, supplier targets, and the wake-up on commit.

use super::returns::{Ask, T0, arrange, try_authorize, warm_pool};
use super::{at, with_tenant};
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::supplier::Connector;
use returnbridge_store::{
    Applied, AttemptOutcome, AttemptReport, ClaimSkip, ClaimedMessage, Disposition,
    RESPONSE_EXCERPT_MAX, Store,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

const LEASE: Duration = Duration::from_secs(60);

/// Authorizes one return per order, `order` seconds after T0: one outbox row each.
async fn messages(
    store: &Arc<dyn Store>,
    t: &TenantId,
    s: SupplierId,
    n: i64,
) -> Vec<(Uuid, ReturnId)> {
    let mut out = Vec::new();
    for order in 0..n {
        let message = Uuid::new_v4();
        let ask = Ask::new(s, &format!("ORDER-{order}"), at(T0 + order, 0));
        let Applied::New(row) = try_authorize(store, t, &ask, message, None).await.unwrap() else {
            panic!("no key, no replay")
        };
        out.push((message, row.id));
    }
    out
}

fn report(outcome: AttemptOutcome, disposition: Disposition, secs: i64) -> AttemptReport {
    AttemptReport {
        started_at: at(T0 + secs, 250),
        duration: Duration::from_millis(42),
        outcome,
        response_excerpt: "answer".into(),
        disposition,
    }
}

async fn claim(store: &Arc<dyn Store>, secs: i64) -> Vec<ClaimedMessage> {
    store
        .claim_due(at(T0 + secs, 0), LEASE, 100, &ClaimSkip::default())
        .await
        .unwrap()
}

pub(crate) async fn due_rows_are_claimed_oldest_first_once_and_not_before_they_are_due(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let sent = messages(&store, &t, s, 3).await;
    let first = claim(&store, 1).await;
    assert_eq!(
        first.iter().map(|m| m.message_id).collect::<Vec<_>>(),
        vec![sent[0].0, sent[1].0],
        "the third is not due yet"
    );
    let m = &first[0];
    assert_eq!((m.tenant.clone(), m.supplier), (t.clone(), s));
    assert_eq!(m.return_id, Some(sent[0].1));
    assert_eq!((m.kind.as_str(), m.attempt_no()), ("NOTICE", 1));
    assert_eq!(m.payload, format!("notice {}", sent[0].0).into_bytes());
    assert_eq!(m.claimed_until, at(T0 + 61, 0));
    // Leased rows are not claimed again; the third now is.
    let second = claim(&store, 2).await;
    assert_eq!(
        second.iter().map(|m| m.message_id).collect::<Vec<_>>(),
        vec![sent[2].0]
    );
    // A skipped supplier's rows stay where they are.
    let other = with_tenant(&store, "globex").await;
    let other_supplier = arrange_supplier(&store, &other).await;
    messages(&store, &other, other_supplier, 1).await;
    assert!(
        store
            .claim_due(
                at(T0 + 3, 0),
                LEASE,
                10,
                &ClaimSkip {
                    suppliers: vec![other_supplier],
                    sellers: vec![]
                }
            )
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(claim(&store, 3).await.len(), 1);
}

async fn arrange_supplier(store: &Arc<dyn Store>, t: &TenantId) -> SupplierId {
    super::create(store, t, super::webhook("Globex Supply"))
        .await
        .id
}

pub(crate) async fn two_claimers_never_get_the_same_row(store: Arc<dyn Store>) {
    let (t, s) = arrange(&store).await;
    messages(&store, &t, s, 24).await;
    warm_pool(&store, &t).await;
    let claimers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_due(at(T0 + 100, 0), LEASE, 5, &ClaimSkip::default())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for claimer in claimers {
        for m in claimer.await.unwrap() {
            total += 1;
            assert!(seen.insert(m.message_id), "{} claimed twice", m.message_id);
        }
    }
    assert_eq!((total, seen.len()), (24, 24));
    assert!(claim(&store, 100).await.is_empty());
}

pub(crate) async fn an_expired_lease_is_reclaimed_and_the_old_claim_can_no_longer_fail_the_row(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let sent = messages(&store, &t, s, 1).await;
    let old = claim(&store, 0).await.remove(0);
    assert!(claim(&store, 59).await.is_empty(), "the lease holds");
    let new = claim(&store, 60).await.remove(0);
    assert_eq!(new.message_id, sent[0].0, "the same message id");
    assert_eq!(new.attempt_no(), 1, "a lost claim counts no attempt");
    // The crashed claimer's late failure moves nothing; its record stays as evidence.
    let late = report(
        AttemptOutcome::HttpStatus(500),
        Disposition::RetryAt(at(T0 + 1000, 0)),
        61,
    );
    assert!(!store.record_attempt(&old, &late).await.unwrap());
    let ok = report(AttemptOutcome::HttpStatus(204), Disposition::Delivered, 61);
    assert!(store.record_attempt(&new, &ok).await.unwrap());
    assert!(claim(&store, 5000).await.is_empty(), "delivered is done");
    let attempts = store.attempts_for_return(&t, sent[0].1).await.unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.delivered, a.next_attempt_at))
            .collect::<Vec<_>>(),
        vec![(false, None), (true, None)]
    );
}

pub(crate) async fn failed_attempts_are_recorded_and_the_row_waits_for_its_next_attempt(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let sent = messages(&store, &t, s, 1).await;
    let first = claim(&store, 0).await.remove(0);
    let mut failed = report(
        AttemptOutcome::HttpStatus(503),
        Disposition::RetryAt(at(T0 + 5, 0)),
        0,
    );
    failed.response_excerpt = "x".repeat(RESPONSE_EXCERPT_MAX + 100);
    assert!(store.record_attempt(&first, &failed).await.unwrap());
    assert!(claim(&store, 4).await.is_empty(), "not before the retry");
    let second = claim(&store, 5).await.remove(0);
    assert_eq!(
        (second.attempt_no(), second.attempts_since_redelivery),
        (2, 1)
    );
    let timeout = report(
        AttemptOutcome::Timeout,
        Disposition::RetryAt(at(T0 + 65, 0)),
        5,
    );
    store.record_attempt(&second, &timeout).await.unwrap();

    let attempts = store.attempts_for_return(&t, sent[0].1).await.unwrap();
    assert_eq!(attempts.len(), 2);
    let a = &attempts[0];
    assert_eq!(
        (a.message_id, a.supplier, a.return_id),
        (sent[0].0, s, Some(sent[0].1))
    );
    assert_eq!((a.attempt_no, a.delivered), (1, false));
    assert_eq!(a.outcome, AttemptOutcome::HttpStatus(503));
    assert_eq!((a.started_at, a.duration_ms), (at(T0, 250), 42));
    assert_eq!(a.response_excerpt.len(), RESPONSE_EXCERPT_MAX);
    assert_eq!(a.next_attempt_at, Some(at(T0 + 5, 0)));
    assert_eq!(
        (attempts[1].attempt_no, attempts[1].outcome),
        (2, AttemptOutcome::Timeout)
    );
    // Per supplier, in pages.
    let page = store.attempts_for_supplier(&t, s, None, 1).await.unwrap();
    assert_eq!(page, attempts[..1].to_vec());
    let rest = store
        .attempts_for_supplier(&t, s, Some(page[0].attempt_id), 10)
        .await
        .unwrap();
    assert_eq!(rest, attempts[1..].to_vec());
    // Another tenant sees none of it.
    let globex = with_tenant(&store, "globex").await;
    assert!(
        store
            .attempts_for_return(&globex, sent[0].1)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .attempts_for_supplier(&globex, s, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn a_held_back_row_waits_without_counting_an_attempt(store: Arc<dyn Store>) {
    let (t, s) = arrange(&store).await;
    let sent = messages(&store, &t, s, 1).await;
    let m = claim(&store, 0).await.remove(0);
    let held = report(
        AttemptOutcome::BreakerOpen,
        Disposition::HeldUntil(at(T0 + 30, 0)),
        0,
    );
    assert!(store.record_attempt(&m, &held).await.unwrap());
    assert!(claim(&store, 29).await.is_empty());
    let again = claim(&store, 30).await.remove(0);
    assert_eq!(again.attempt_no(), 1);
    let attempts = store.attempts_for_return(&t, sent[0].1).await.unwrap();
    assert_eq!(attempts[0].outcome, AttemptOutcome::BreakerOpen);
}

pub(crate) async fn an_exhausted_row_is_failed_until_an_operator_redelivers_it(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let sent = messages(&store, &t, s, 1).await;
    let m = claim(&store, 0).await.remove(0);
    let last = report(AttemptOutcome::ConnectError, Disposition::Exhausted, 0);
    assert!(store.record_attempt(&m, &last).await.unwrap());
    assert!(claim(&store, 100_000).await.is_empty(), "failed rows wait");
    let globex = with_tenant(&store, "globex").await;
    assert!(
        !store
            .redeliver(&globex, sent[0].0, at(T0 + 10, 0))
            .await
            .unwrap(),
        "another tenant's message is not found"
    );
    assert!(
        !store
            .redeliver(&t, Uuid::new_v4(), at(T0 + 10, 0))
            .await
            .unwrap()
    );
    assert!(
        store
            .redeliver(&t, sent[0].0, at(T0 + 10, 0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .redeliver(&t, sent[0].0, at(T0 + 10, 0))
            .await
            .unwrap(),
        "only a failed row is redelivered"
    );
    let again = claim(&store, 10).await.remove(0);
    assert_eq!(again.message_id, sent[0].0);
    assert_eq!(
        (again.attempt_no(), again.attempts_since_redelivery),
        (2, 0),
        "numbers keep counting; the schedule starts over"
    );
}

pub(crate) async fn a_suppliers_delivery_target_carries_its_connector_and_secret(
    store: Arc<dyn Store>,
) {
    let (t, s) = arrange(&store).await;
    let target = store.delivery_target(&t, s).await.unwrap().unwrap();
    assert_eq!(target.webhook_secret, "whsec_test");
    assert!(matches!(
        target.connector,
        Connector::Webhook { ref url } if url.as_str() == "https://supplier.example/hooks"
    ));
    let globex = with_tenant(&store, "globex").await;
    assert_eq!(store.delivery_target(&globex, s).await.unwrap(), None);
}

pub(crate) async fn a_commit_that_adds_outbox_rows_wakes_the_signal(store: Arc<dyn Store>) {
    let (t, s) = arrange(&store).await;
    let mut signal = store.outbox_signal().await.unwrap();
    let waiting = tokio::spawn(async move {
        tokio::time::timeout(Duration::from_secs(5), signal.changed()).await
    });
    messages(&store, &t, s, 1).await;
    let woke = waiting.await.unwrap();
    assert!(matches!(woke, Ok(Ok(()))), "{woke:?}");
}
