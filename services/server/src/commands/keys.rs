use crate::cli::KeysCommand;
use anyhow::{Context, bail};
use chrono::Utc;
use returnbridge_core::auth::generate_api_key;
use returnbridge_domain::auth::{Scope, check_key_scopes};
use returnbridge_domain::ids::{ApiKeyId, SupplierId, TenantId};
use returnbridge_store::{NewApiKey, Store};
use std::sync::Arc;

/// Runs a `keys` subcommand against an open, migrated store.
pub async fn run(store: Arc<dyn Store>, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            tenant,
            supplier,
            scopes,
            name,
            ..
        } => {
            let tenant = TenantId::parse(&tenant).map_err(|e| anyhow::anyhow!("--tenant {e}"))?;
            let supplier = supplier
                .map(|s| SupplierId::parse(&s).map_err(|e| anyhow::anyhow!("--supplier {e}")))
                .transpose()?;
            let scopes = match (scopes, supplier) {
                (Some(list), _) => {
                    Scope::parse_list(&list).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?
                }
                (None, Some(_)) => vec![Scope::SupplierCallbacks],
                (None, None) => Scope::SELLER_DEFAULT.to_vec(),
            };
            check_key_scopes(supplier.is_some(), &scopes)
                .map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let generated = generate_api_key();
            let record = store
                .create_api_key(NewApiKey {
                    id: ApiKeyId::generate(),
                    tenant,
                    supplier,
                    name,
                    scopes,
                    secret_hash: generated.hash,
                    created_at: Utc::now(),
                })
                .await
                .context("creating the API key")?;
            eprintln!(
                "Created API key {} for tenant {} with scopes {}.\nThe key is printed below once; store it now.",
                record.id,
                record.tenant,
                Scope::join(&record.scopes)
            );
            println!("{}", generated.secret);
        }
        KeysCommand::List { tenant, .. } => {
            let tenant = tenant
                .map(|t| TenantId::parse(&t).map_err(|e| anyhow::anyhow!("--tenant {e}")))
                .transpose()?;
            let keys = store
                .list_api_keys(tenant.as_ref())
                .await
                .context("listing API keys")?;
            println!(
                "{:<36}  {:<16}  {:<36}  {:<16}  {:<20}  scopes",
                "key id", "tenant", "supplier", "name", "state"
            );
            for k in keys {
                let state = match k.revoked_at {
                    Some(at) => format!("revoked {}", at.format("%Y-%m-%d")),
                    None => "active".into(),
                };
                let supplier = k
                    .supplier
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{:<36}  {:<16}  {:<36}  {:<16}  {:<20}  {}",
                    k.id,
                    k.tenant,
                    supplier,
                    k.name,
                    state,
                    Scope::join(&k.scopes)
                );
            }
        }
        KeysCommand::Revoke { key_id, .. } => {
            let id = ApiKeyId::parse(&key_id).map_err(|e| anyhow::anyhow!("key id {e}"))?;
            if !store
                .revoke_api_key(id, Utc::now())
                .await
                .context("revoking the API key")?
            {
                bail!("no API key {id}; `returnbridge keys list` shows the ids");
            }
            eprintln!("Revoked API key {id}.");
        }
    }
    Ok(())
}
