//! WatchEvents: a tenant's events from a cursor, live. Events are read from the database in sequence
//! order, so a stream resumed from the last cursor it delivered has no gap and no duplicate. This
//! replica's writes wake streams at once; other replicas' writes are found by polling.

use crate::ApiContext;
use crate::convert::supplier::supplier_id;
use crate::convert::timestamp;
use crate::error::ApiError;
use returnbridge_convert::events::{cursor, parse_cursor, read_event};
use returnbridge_core::auth::Principal;
use returnbridge_domain::Violations;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::ReturnId;
use returnbridge_proto::v1 as pb;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Status};

/// The stream WatchEvents answers with.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;

/// How often a stream looks for other replicas' events.
const POLL: Duration = Duration::from_millis(250);
/// A heartbeat after this long without an event tells the client the stream is alive.
const HEARTBEAT: Duration = Duration::from_secs(15);
const BATCH: u32 = 200;
/// How often a stream checks that its key still holds: a revoked key's stream ends within a second.
const KEY_RECHECK: Duration = Duration::from_millis(500);
/// How long a shutting-down stream waits to hand its client the UNAVAILABLE that says so.
const SHUTDOWN_NOTICE: Duration = Duration::from_millis(100);

struct Filter {
    types: Vec<i32>,
    supplier: Option<String>,
    return_id: Option<String>,
}

impl Filter {
    fn keeps(&self, e: &pb::ReturnEvent) -> bool {
        (self.types.is_empty() || self.types.contains(&e.event_type))
            && self.supplier.as_ref().is_none_or(|s| *s == e.supplier_id)
            && self.return_id.as_ref().is_none_or(|r| *r == e.return_id)
    }
}

pub(super) async fn watch(
    ctx: &ApiContext,
    request: Request<pb::WatchEventsRequest>,
) -> Result<EventStream, ApiError> {
    let caller = ctx
        .authorize(request.metadata(), Scope::ReturnsRead)
        .await?;
    let req = request.into_inner();
    let mut v = Violations::default();
    v.check(
        req.after_cursor.is_empty() || !req.from_beginning,
        "from_beginning",
        "set either after_cursor or from_beginning, not both",
    );
    let start = if !req.after_cursor.is_empty() {
        parse_cursor(&req.after_cursor, "after_cursor", &mut v)
    } else {
        None
    };
    for (i, t) in req.event_types.iter().enumerate() {
        v.check(
            matches!(pb::ReturnEventType::try_from(*t), Ok(t) if t != pb::ReturnEventType::Unspecified),
            format!("event_types[{i}]"),
            "is not an event type",
        );
    }
    let supplier = (!req.supplier_id.is_empty())
        .then(|| supplier_id(&req.supplier_id, "supplier_id", &mut v).map(|s| s.to_string()))
        .flatten();
    let return_id = (!req.return_id.is_empty())
        .then(|| {
            v.take("return_id", ReturnId::parse(&req.return_id))
                .map(|r| r.to_string())
        })
        .flatten();
    v.finish()?;
    let after = match start {
        Some(seq) => seq,
        None if req.from_beginning => 0,
        // Neither: only what happens from now on.
        None => ctx.store.last_event_seq(&caller.tenant).await?,
    };
    let filter = Filter {
        types: req.event_types,
        supplier,
        return_id,
    };
    let (tx, rx) = mpsc::channel(64);
    let ctx = ctx.clone();
    ctx.background.clone().spawn(async move {
        tokio::select! {
            () = follow(&ctx, &caller, after, &filter, &tx) => {}
            () = ctx.background.stopping() => {
                // Tell the client to reconnect elsewhere (with its last cursor) rather than end
                // quietly; a client that is not reading gets a plain end instead.
                let _ = tokio::time::timeout(SHUTDOWN_NOTICE, tx.send(Err(shutting_down()))).await;
            }
        }
    });
    Ok(Box::pin(ReceiverStream::new(rx)))
}

/// UNAVAILABLE: this replica is shutting down; the stream resumes from its last cursor elsewhere.
fn shutting_down() -> Status {
    Status::unavailable("the server is shutting down; reconnect with the last cursor received")
}

/// Sends the events after `after` that `filter` keeps, then new ones as they are written, with
/// heartbeats, until the client goes away, the key no longer holds or the store fails.
async fn follow(
    ctx: &ApiContext,
    caller: &Principal,
    mut after: i64,
    filter: &Filter,
    tx: &mpsc::Sender<Result<pb::WatchEventsResponse, Status>>,
) {
    let mut quiet_since = tokio::time::Instant::now();
    let mut key_checked = tokio::time::Instant::now();
    loop {
        if key_checked.elapsed() >= KEY_RECHECK {
            key_checked = tokio::time::Instant::now();
            if let Err(e) = ctx.auth.recheck(caller, Scope::ReturnsRead).await {
                let _ = tx.send(Err(Status::from(ApiError::from(e)))).await;
                return;
            }
        }
        // Register interest before reading, so a write between the read and the wait still wakes us.
        let woken = ctx.events.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let batch = match ctx.store.events_after(&caller.tenant, after, BATCH).await {
            Ok(b) => b,
            Err(e) => {
                let _ = tx.send(Err(Status::from(ApiError::from(e)))).await;
                return;
            }
        };
        for stored in &batch {
            after = stored.seq;
            match read_event(stored.seq, &stored.detail) {
                Ok(event) if filter.keeps(&event) => {
                    quiet_since = tokio::time::Instant::now();
                    let item = pb::watch_events_response::Item::Event(event);
                    if tx
                        .send(Ok(pb::WatchEventsResponse { item: Some(item) }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(Status::from(e))).await;
                    return;
                }
            }
        }
        if batch.len() == BATCH as usize {
            continue;
        }
        if quiet_since.elapsed() >= HEARTBEAT {
            quiet_since = tokio::time::Instant::now();
            let beat = pb::Heartbeat {
                server_time: Some(timestamp(ctx.clock.now())),
                cursor: cursor(after),
            };
            let item = pb::watch_events_response::Item::Heartbeat(beat);
            if tx
                .send(Ok(pb::WatchEventsResponse { item: Some(item) }))
                .await
                .is_err()
            {
                return;
            }
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = tx.closed() => return,
        }
    }
}
