//! The expiry sweep: AUTHORIZED returns not shipped by their ship-by deadline become EXPIRED.

use crate::ApiContext;
use crate::error::ApiError;

/// Expires every overdue return and reports how many this call expired. Safe to run on several
/// replicas at once: each return's row lock and status check let exactly one of them expire it.
pub async fn expire_overdue(ctx: &ApiContext) -> Result<usize, ApiError> {
    let expired = ctx.returns.expire_overdue().await?;
    if expired > 0 {
        ctx.events_written();
    }
    Ok(expired)
}
