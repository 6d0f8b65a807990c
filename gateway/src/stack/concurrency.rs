//! At most N attempts in flight per supplier (tower's `ConcurrencyLimit`, default 16).
//!
//! Why: a supplier is one small web stack; a burst of returns must queue at our side instead of
//! opening hundreds of connections to it at once, and one supplier's queue holds no permit another
//! supplier needs (each supplier has a stack of its own).

use tower::limit::ConcurrencyLimitLayer;

/// The layer: attempts past `max` wait for a permit, in order.
pub fn layer(max: usize) -> ConcurrencyLimitLayer {
    ConcurrencyLimitLayer::new(max.max(1))
}
