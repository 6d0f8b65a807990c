//! The seller event relay: copies each tenant's return events, in sequence order, into the outbox
//! for its event webhook, where the dispatcher delivers them like supplier requests (signed, retried,
//! recorded, in order per return). It runs behind a per-tenant cursor instead of in every change's
//! transaction, so a change costs no more with a webhook than without, and several gateway replicas
//! may run it at once (the cursor row is locked while one moves it).

use returnbridge_core::clock::Clock;
use returnbridge_domain::ids::TenantId;
use returnbridge_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often the relay looks for new events: the seller's webhook lags its event stream by at
/// most about this.
pub const TICK: Duration = Duration::from_millis(200);

/// Events moved per transaction.
const BATCH: u32 = 256;

/// The relay's work, one tick at a time.
#[derive(Clone)]
pub struct SellerEventRelay {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl SellerEventRelay {
    /// A relay over `store`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Moves every tenant's new events; how many it passed. A tenant that fails is logged and
    /// left for the next tick.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let mut moved = 0;
        for tenant in self.store.seller_event_backlog().await? {
            match self.relay(&tenant).await {
                Ok(n) => moved += n,
                Err(StoreError::Unavailable(e)) => return Err(StoreError::Unavailable(e)),
                Err(e) => {
                    tracing::error!(tenant = %tenant, error = %e, "relaying seller events failed")
                }
            }
        }
        Ok(moved)
    }

    async fn relay(&self, tenant: &TenantId) -> Result<usize, StoreError> {
        // Events of a time the webhook was off are passed over, not kept for later.
        let stored = self.store.seller_settings(tenant).await?;
        let deliver = !returnbridge_convert::settings::to_proto(stored.as_ref())?
            .event_webhook_url
            .trim()
            .is_empty();
        let mut moved = 0;
        loop {
            let n = self
                .store
                .relay_seller_events(tenant, deliver, BATCH, self.clock.now())
                .await?;
            moved += n;
            if n < BATCH as usize {
                return Ok(moved);
            }
        }
    }
}
