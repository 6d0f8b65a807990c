use super::*;
use crate::ContractStore;

#[async_trait]
impl ContractStore for PgStore {}
