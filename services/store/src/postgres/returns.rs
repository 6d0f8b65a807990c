use super::*;
use crate::ReturnStore;

#[async_trait]
impl ReturnStore for PgStore {}
