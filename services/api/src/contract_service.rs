//! ContractService: suppliers here; contracts and seller settings in [`crate::contracts`].

use crate::ApiContext;
use crate::contracts;
use crate::convert::supplier::{new_supplier, supplier_changes, supplier_id, to_proto};
use crate::error::ApiError;
use crate::idempotency::{Idempotency, answer, keep};
use crate::paging::{decode_token, encode_token, page_size};
use returnbridge_domain::Resource;
use returnbridge_domain::auth::Scope;
use returnbridge_domain::ids::SupplierId;
use returnbridge_domain::supplier::Supplier;
use returnbridge_domain::{DomainError, Violations};
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::contract_service_server::ContractService;
use returnbridge_store::SecretRotation;
use tonic::{Request, Response, Status};

/// How long a rotated-out webhook secret keeps signing beside the new one: a day for the supplier
/// to deploy the new secret without a delivery it cannot verify.
const ROTATED_SECRET_SIGNS_FOR: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The ContractService handlers.
#[derive(Clone)]
pub struct ContractApi {
    ctx: ApiContext,
}

impl ContractApi {
    /// Handlers over the shared context.
    pub fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }
}

fn not_found(id: SupplierId) -> ApiError {
    DomainError::NotFound {
        resource: Resource::Supplier,
        id: id.to_string(),
    }
    .into()
}

#[tonic::async_trait]
impl ContractService for ContractApi {
    async fn create_supplier(
        &self,
        request: Request<pb::CreateSupplierRequest>,
    ) -> Result<Response<pb::CreateSupplierResponse>, Status> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::ContractsWrite)
            .await?;
        let idempotency = Idempotency::of(
            request.metadata(),
            "CreateSupplier",
            request.get_ref(),
            false,
        )?;
        let req = request.into_inner();
        let supplier = new_supplier(&req).map_err(ApiError::from)?;
        let secret = returnbridge_core::auth::generate_webhook_secret();
        let render = |s: &Supplier| pb::CreateSupplierResponse {
            supplier: Some(to_proto(s)),
            webhook_signing_secret: secret.clone(),
        };
        let encode = keep(&render);
        let applied = self
            .ctx
            .store
            .create_supplier(
                &caller.tenant,
                supplier,
                &secret,
                self.ctx.clock.now(),
                idempotency.claim(&encode),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(answer(applied, render)?))
    }

    async fn get_supplier(
        &self,
        request: Request<pb::GetSupplierRequest>,
    ) -> Result<Response<pb::GetSupplierResponse>, Status> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::ContractsRead)
            .await?;
        let mut v = Violations::default();
        let id = supplier_id(&request.get_ref().supplier_id, "supplier_id", &mut v);
        let id = v.finish_with(id, "supplier_id").map_err(ApiError::from)?;
        let supplier = self
            .ctx
            .store
            .get_supplier(&caller.tenant, id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| not_found(id))?;
        Ok(Response::new(pb::GetSupplierResponse {
            supplier: Some(to_proto(&supplier)),
        }))
    }

    async fn list_suppliers(
        &self,
        request: Request<pb::ListSuppliersRequest>,
    ) -> Result<Response<pb::ListSuppliersResponse>, Status> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::ContractsRead)
            .await?;
        let req = request.get_ref();
        let mut v = Violations::default();
        let limit = page_size(req.page_size, &mut v);
        let after = decode_token(&req.page_token, &mut v)
            .and_then(|p| v.take("page_token", SupplierId::parse(&p)));
        v.finish().map_err(ApiError::from)?;
        // One extra row tells whether another page follows.
        let mut suppliers = self
            .ctx
            .store
            .list_suppliers(&caller.tenant, after, limit + 1)
            .await
            .map_err(ApiError::from)?;
        let next_page_token = if suppliers.len() > limit as usize {
            suppliers.truncate(limit as usize);
            suppliers
                .last()
                .map(|s| encode_token(&s.id.to_string()))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListSuppliersResponse {
            suppliers: suppliers.iter().map(to_proto).collect(),
            next_page_token,
        }))
    }

    async fn update_supplier(
        &self,
        request: Request<pb::UpdateSupplierRequest>,
    ) -> Result<Response<pb::UpdateSupplierResponse>, Status> {
        let caller = self
            .ctx
            .authorize(request.metadata(), Scope::ContractsWrite)
            .await?;
        let idempotency = Idempotency::of(
            request.metadata(),
            "UpdateSupplier",
            request.get_ref(),
            false,
        )?;
        let req = request.into_inner();
        let (id, changes) = supplier_changes(&req).map_err(ApiError::from)?;
        let now = self.ctx.clock.now();
        let secret = req
            .rotate_webhook_secret
            .then(returnbridge_core::auth::generate_webhook_secret);
        let rotation = secret.as_deref().map(|secret| SecretRotation {
            secret,
            old_signs_until: now + ROTATED_SECRET_SIGNS_FOR,
        });
        let render = |s: &Supplier| pb::UpdateSupplierResponse {
            supplier: Some(to_proto(s)),
            webhook_signing_secret: secret.clone().unwrap_or_default(),
        };
        let encode = keep(&render);
        let applied = self
            .ctx
            .store
            .update_supplier(
                &caller.tenant,
                id,
                changes,
                rotation,
                now,
                idempotency.claim(&encode),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(answer(applied, render)?))
    }

    async fn publish_contract(
        &self,
        request: Request<pb::PublishContractRequest>,
    ) -> Result<Response<pb::PublishContractResponse>, Status> {
        Ok(Response::new(contracts::publish(&self.ctx, request).await?))
    }

    async fn get_contract(
        &self,
        request: Request<pb::GetContractRequest>,
    ) -> Result<Response<pb::GetContractResponse>, Status> {
        Ok(Response::new(contracts::get(&self.ctx, request).await?))
    }

    async fn list_contract_versions(
        &self,
        request: Request<pb::ListContractVersionsRequest>,
    ) -> Result<Response<pb::ListContractVersionsResponse>, Status> {
        Ok(Response::new(contracts::list(&self.ctx, request).await?))
    }

    async fn get_seller_settings(
        &self,
        request: Request<pb::GetSellerSettingsRequest>,
    ) -> Result<Response<pb::GetSellerSettingsResponse>, Status> {
        Ok(Response::new(
            contracts::get_settings(&self.ctx, request).await?,
        ))
    }

    async fn update_seller_settings(
        &self,
        request: Request<pb::UpdateSellerSettingsRequest>,
    ) -> Result<Response<pb::UpdateSellerSettingsResponse>, Status> {
        Ok(Response::new(
            contracts::update_settings(&self.ctx, request).await?,
        ))
    }
}
