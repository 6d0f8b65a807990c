//! The expiry sweep: AUTHORIZED returns not shipped by their ship-by deadline become EXPIRED.

use super::change::expire;
use crate::ApiContext;
use crate::error::ApiError;

/// Returns expired per sweep round at most; the next round takes the rest.
const ROUND: u32 = 100;

/// Expires every overdue return and reports how many this call expired. Safe to run on several
/// replicas at once: each return's row lock and status check let exactly one of them expire it.
pub async fn expire_overdue(ctx: &ApiContext) -> Result<usize, ApiError> {
    let mut expired = 0;
    loop {
        let due = ctx.store.overdue_returns(ctx.clock.now(), ROUND).await?;
        let mut progressed = false;
        for (tenant, id) in &due {
            if expire(ctx, tenant, *id).await? {
                expired += 1;
                progressed = true;
            }
        }
        if due.len() < ROUND as usize || !progressed {
            return Ok(expired);
        }
    }
}
