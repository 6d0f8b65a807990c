//! Who did a return's change, as its events record it.

use returnbridge_core::auth::Principal;
use returnbridge_domain::returns::{Actor, ActorKind};

/// The seller's API key behind a call.
pub(crate) fn seller(caller: &Principal) -> Actor {
    Actor {
        kind: ActorKind::Seller,
        id: caller.key_id.to_string(),
    }
}
