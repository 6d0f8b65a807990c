//! The gateway's view of API keys: the api side's authenticator, asked for the supplier scope.

use returnbridge_api::auth::Authenticator;
use returnbridge_domain::auth::Scope;
use returnbridge_gateway::SupplierKeyCheck;
use tonic::Status;
use tonic::metadata::MetadataMap;

/// Checks supplier callback keys against the stored keys.
pub struct StoredSupplierKeys(pub Authenticator);

#[tonic::async_trait]
impl SupplierKeyCheck for StoredSupplierKeys {
    async fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        self.0
            .authorize(metadata, Scope::SupplierCallbacks)
            .await
            .map(drop)
            .map_err(Status::from)
    }
}
