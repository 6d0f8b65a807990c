//! The SLA clock: every supplier deadline that passes unanswered is recorded once and acted on as
//! the contract says (NOTIFY, AUTO_APPROVE, FAILOVER), through the core, within a tick of the
//! deadline. Several gateway replicas may tick at once: each return's row lock and the breach
//! table's primary key let exactly one record a deadline.

use returnbridge_convert::contract::contract_to_domain;
use returnbridge_convert::settings;
use returnbridge_core::clock::Clock;
use returnbridge_core::metrics::Metrics;
use returnbridge_core::returns::Returns;
use returnbridge_domain::ids::{ReturnId, TenantId};
use returnbridge_domain::returns::SlaContext;
use returnbridge_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How often the clock looks: a deadline is acted on within this of passing.
pub const TICK: Duration = Duration::from_millis(500);

/// Returns looked at per tick at most; the next tick takes the rest.
const ROUND: u32 = 200;

/// The clock's work, one tick at a time.
#[derive(Clone)]
pub struct SlaClock {
    returns: Returns,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
}

impl SlaClock {
    /// A clock over the shared use cases.
    pub fn new(
        returns: Returns,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        metrics: Metrics,
    ) -> Self {
        Self {
            returns,
            store,
            clock,
            metrics,
        }
    }

    /// Acts on every deadline due now; how many deadlines it recorded. A return that fails is
    /// logged and left for the next tick, so one bad return never stops the clock for the others.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let due = self
            .store
            .supplier_deadlines_due(self.clock.now(), ROUND)
            .await?;
        let mut recorded = 0;
        for (tenant, id) in &due {
            match self.enforce(tenant, *id).await {
                Ok(n) => recorded += n,
                Err(StoreError::Unavailable(e)) => return Err(StoreError::Unavailable(e)),
                Err(e) => {
                    tracing::error!(tenant = %tenant, return_id = %id, error = %e, "SLA clock")
                }
            }
        }
        Ok(recorded)
    }

    async fn enforce(&self, tenant: &TenantId, id: ReturnId) -> Result<usize, StoreError> {
        let ret = self.returns.get(tenant, id).await?;
        let stored = self
            .store
            .contract_version(
                tenant,
                ret.request.order.supplier,
                ret.decision.contract_version,
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("return {id}: its contract is gone")))?;
        let contract = contract_to_domain(&stored)?;
        let backup = self
            .store
            .get_supplier(tenant, ret.supplier)
            .await?
            .and_then(|s| s.backup);
        let seller = self.store.seller_settings(tenant).await?;
        let ctx = SlaContext {
            sla: &contract.terms.sla,
            backup,
            ship_within: settings::to_domain(seller.as_ref())?.0.ship_by,
        };
        let recorded = self.returns.enforce_deadlines(tenant, id, &ctx).await?;
        for (supplier, kind) in &recorded {
            tracing::info!(tenant = %tenant, return_id = %id, supplier_id = %supplier, deadline = %kind, action = %ctx.sla.breach_action, "supplier deadline missed");
            self.metrics.record_breach(*supplier, *kind);
        }
        Ok(recorded.len())
    }
}
