//! The return use cases both adapters call: authorization, every change to a stored return, the
//! supplier's answers and expiry. Each runs as one store transaction holding the change, its event,
//! the supplier message it causes and the idempotent answer; the adapters authenticate, convert
//! and call.
//!
//! How an event and a supplier message are encoded is the adapters' (the v1 messages), given as a
//! [`Render`], so this layer stays free of the wire.

use crate::clock::Clock;
use crate::metrics::Metrics;
use chrono::{DateTime, Utc};
use returnbridge_domain::contract::{ContractVersion, SellerSettings};
use returnbridge_domain::decision::Decision;
use returnbridge_domain::eligibility::decide;
use returnbridge_domain::ids::{ReturnId, SupplierId, TenantId};
use returnbridge_domain::order::{ReturnRequest, ReturnedUnits, Sku};
use returnbridge_domain::returns::{
    Actor, DeadlineKind, DecidedUnder, EventDetail, Return, ReturnEvent, SlaContext,
    SupplierDecision, SupplierRequest,
};
use returnbridge_domain::{DomainError, ErrorReason, Resource};
use returnbridge_store::{
    Applied, IdempotencyClaim, NewBreach, NewEvent, NewOutboxMessage, NewReturn, NewSettlement,
    ReturnUpdate, ReturnedSoFar, Store, StoreError,
};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Encodes what a change writes for the outside world: its event and its supplier messages.
pub trait Render: Send + Sync {
    /// The event row of `event`, about `ret` as it stands after the change.
    fn event(&self, ret: &Return, event: &ReturnEvent) -> NewEvent;

    /// The message that delivers `request` of `ret` to its supplier, queued at `now`.
    fn supplier_message(
        &self,
        tenant: &TenantId,
        ret: &Return,
        request: &SupplierRequest,
        now: DateTime<Utc>,
    ) -> NewOutboxMessage;
}

/// What one change did: its events, and the settlement when it resolved the return.
pub struct Changed {
    /// The events, in order; at least one.
    pub events: Vec<ReturnEvent>,
    /// The final split's settlement line and postings.
    pub settlement: Option<NewSettlement>,
}

impl From<ReturnEvent> for Changed {
    fn from(event: ReturnEvent) -> Self {
        Self {
            events: vec![event],
            settlement: None,
        }
    }
}

/// Makes one change to a return through its methods, or refuses it.
pub type Edit<'a> = &'a (dyn Fn(&mut Return) -> Result<Changed, StoreError> + Send + Sync);

/// The decision an authorization made now (none when it replayed a stored answer), for the decisions counter.
pub type Decided = Option<Decision>;

/// The return use cases.
#[derive(Clone)]
pub struct Returns {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    render: Arc<dyn Render>,
    metrics: Option<Metrics>,
}

impl Returns {
    /// Use cases over `store`, telling time by `clock`, encoding with `render`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, render: Arc<dyn Render>) -> Self {
        Self {
            store,
            clock,
            render,
            metrics: None,
        }
    }

    /// The same use cases, timing suppliers' answers in `metrics`.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Decides `request` under `contract` and the seller's `settings` and stores the return with its
    /// first event and the supplier's message. The decision is made inside the transaction, once the
    /// units earlier returns of the order took are read under a lock. Returns what was applied and,
    /// when a decision was made now (not replayed), that decision.
    #[allow(clippy::too_many_arguments)]
    pub async fn authorize(
        &self,
        tenant: &TenantId,
        request: &ReturnRequest,
        external_reference: &str,
        contract: &ContractVersion,
        settings: (&SellerSettings, i64),
        actor: &Actor,
        now: DateTime<Utc>,
        claim: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<(Applied<Return>, Decided), StoreError> {
        let id = ReturnId::generate();
        // The store may run the plan more than once (a retried transaction): the last one counts.
        let decided = Mutex::new(None);
        let plan = |so_far: &ReturnedSoFar| -> Result<NewReturn, StoreError> {
            let already: ReturnedUnits = so_far
                .iter()
                .filter_map(|(sku, n)| Some((Sku::parse(sku).ok()?, u32::try_from(*n).ok()?)))
                .collect();
            let profile = request.order.jurisdiction.profile();
            let decision = decide(request, &already, contract, profile, settings.0, now);
            *decided.lock().unwrap_or_else(|p| p.into_inner()) = Some(decision.clone());
            let under = DecidedUnder {
                settings_version: settings.1,
                decided_at: now,
            };
            let (ret, first) = Return::decide(
                id,
                request.clone(),
                external_reference.to_owned(),
                decision,
                under,
                actor,
            );
            let outbox = ret
                .open_request()
                .map(|r| self.render.supplier_message(tenant, &ret, r, now));
            // A rejected return takes no units; every other holds them until it is closed.
            let reserve = if first.releases_units() {
                Vec::new()
            } else {
                units(&ret)
            };
            Ok(NewReturn {
                event: self.render.event(&ret, &first),
                ret,
                outbox,
                reserve,
            })
        };
        let skus: Vec<String> = request
            .items
            .iter()
            .map(|i| i.sku.as_str().to_owned())
            .collect();
        let order_id = request.order.order_id.as_str();
        let applied = self
            .store
            .authorize_return(tenant, order_id, &skus, &plan, now, claim)
            .await?;
        let decided = match &applied {
            Applied::New(_) => decided.into_inner().unwrap_or_else(|p| p.into_inner()),
            Applied::Replayed(_) => None,
        };
        Ok((applied, decided))
    }

    /// Changes a stored return under its row lock: checks `expected_version` (0: any), runs `edit`,
    /// and writes the return, its event, the message for a request the change opened, the units it
    /// freed and its settlement, with the idempotent answer, in one transaction.
    pub async fn change(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        expected_version: i64,
        now: DateTime<Utc>,
        edit: Edit<'_>,
        claim: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        if expected_version < 0 {
            return Err(DomainError::invalid(
                "expected_version",
                "must be positive, or 0 to skip the check",
            )
            .into());
        }
        let plan = |current: &Return| -> Result<ReturnUpdate, StoreError> {
            if expected_version > 0 && expected_version != current.version {
                return Err(DomainError::VersionConflict {
                    expected: expected_version,
                    current: current.version,
                }
                .into());
            }
            let mut ret = current.clone();
            let changed = edit(&mut ret)?;
            // A request the change opened (a failover's) goes out with it.
            let outbox = ret
                .supplier_requests
                .get(current.supplier_requests.len()..)
                .and_then(<[SupplierRequest]>::last)
                .map(|r| self.render.supplier_message(tenant, &ret, r, now));
            if changed.events.is_empty() {
                return Err(nothing_due());
            }
            // Units no longer coming back are freed for later returns of the order.
            let release = if changed.events.iter().any(ReturnEvent::releases_units) {
                units(&ret)
            } else {
                Vec::new()
            };
            Ok(ReturnUpdate {
                events: changed
                    .events
                    .iter()
                    .map(|e| self.render.event(&ret, e))
                    .collect(),
                breaches: breaches(&ret, &changed.events),
                ret,
                outbox,
                release,
                settlement: changed.settlement,
            })
        };
        self.store
            .update_return(tenant, id, &plan, now, claim)
            .await
    }

    /// The return a supplier's request belongs to; NOT_FOUND for a request the tenant never sent
    /// (whether it was sent to this supplier, the return's methods check).
    async fn return_of_request(
        &self,
        tenant: &TenantId,
        request_id: Uuid,
    ) -> Result<ReturnId, StoreError> {
        self.store
            .return_of_supplier_request(tenant, request_id)
            .await?
            .ok_or_else(|| {
                DomainError::NotFound {
                    resource: Resource::SupplierRequest,
                    id: request_id.to_string(),
                }
                .into()
            })
    }

    /// A supplier answer: `edit` under the lock, where ALREADY_ANSWERED means an answer is on record
    /// already. When `same` says the recorded one is this answer again, it is answered with the
    /// return as it stands and no second effect; otherwise the refusal stands.
    #[allow(clippy::too_many_arguments)]
    async fn answer(
        &self,
        tenant: &TenantId,
        request_id: Uuid,
        now: DateTime<Utc>,
        kind: DeadlineKind,
        edit: Edit<'_>,
        same: &(dyn Fn(&Return) -> bool + Send + Sync),
        claim: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        let id = self.return_of_request(tenant, request_id).await?;
        match self.change(tenant, id, 0, now, edit, claim).await {
            // Answered now (not a repeat, not a replay): how long the supplier took.
            Ok(Applied::New(ret)) => {
                self.time_answer(&ret, request_id, kind);
                Ok(Applied::New(ret))
            }
            Err(StoreError::Domain(DomainError::FailedPrecondition {
                reason: ErrorReason::AlreadyAnswered,
                message,
            })) => {
                let current = self.get(tenant, id).await?;
                if same(&current) {
                    Ok(Applied::New(current))
                } else {
                    Err(DomainError::FailedPrecondition {
                        reason: ErrorReason::AlreadyAnswered,
                        message,
                    }
                    .into())
                }
            }
            other => other,
        }
    }

    /// `supplier` acknowledges its request `request_id`: the ack clock stops. Repeats, and an
    /// acknowledgement after the answer, change nothing.
    pub async fn supplier_acknowledge(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        request_id: Uuid,
        claim: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        let now = self.clock.now();
        let edit =
            |ret: &mut Return| Ok(ret.supplier_acknowledge(request_id, supplier, now)?.into());
        let same = |_: &Return| true;
        self.answer(
            tenant,
            request_id,
            now,
            DeadlineKind::Ack,
            &edit,
            &same,
            claim,
        )
        .await
    }

    /// The supplier answers its authorization request `request_id`; an approved return gets
    /// `ship_within` (the seller's setting) to be shipped. The same verdict again changes nothing;
    /// another one is ALREADY_ANSWERED.
    pub async fn supplier_decide(
        &self,
        tenant: &TenantId,
        request_id: Uuid,
        decision: SupplierDecision,
        ship_within: chrono::TimeDelta,
        claim: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        let now = decision.decided_at;
        let edit = |ret: &mut Return| {
            Ok(ret
                .supplier_decide(request_id, decision.clone(), ship_within)?
                .into())
        };
        let same = |ret: &Return| {
            ret.supplier_decision
                .as_ref()
                .is_some_and(|d| d.verdict == decision.verdict && d.supplier == decision.supplier)
        };
        self.answer(
            tenant,
            request_id,
            now,
            DeadlineKind::Decision,
            &edit,
            &same,
            claim,
        )
        .await
    }

    /// A report by `supplier` on its return `id` (receipt, inspection, credit), made by `edit`. A
    /// return handled by another supplier is NOT_FOUND. When the return refuses the report and
    /// `same` says the return already holds it from this supplier, the repeat is answered with the
    /// return as it stands and no second effect.
    pub async fn supplier_report(
        &self,
        tenant: &TenantId,
        supplier: SupplierId,
        id: ReturnId,
        edit: Edit<'_>,
        same: &(dyn Fn(&Return) -> bool + Send + Sync),
        claim: Option<IdempotencyClaim<'_, Return>>,
    ) -> Result<Applied<Return>, StoreError> {
        let not_found = || -> StoreError {
            DomainError::NotFound {
                resource: Resource::Return,
                id: id.to_string(),
            }
            .into()
        };
        let theirs = |ret: &mut Return| {
            if ret.supplier != supplier {
                return Err(not_found());
            }
            edit(ret)
        };
        match self
            .change(tenant, id, 0, self.clock.now(), &theirs, claim)
            .await
        {
            Err(StoreError::Domain(
                refused @ (DomainError::StatusConflict { .. }
                | DomainError::FailedPrecondition {
                    reason: ErrorReason::AlreadyAnswered,
                    ..
                }),
            )) => {
                let current = self.get(tenant, id).await?;
                if current.supplier == supplier && same(&current) {
                    Ok(Applied::New(current))
                } else {
                    Err(refused.into())
                }
            }
            other => other,
        }
    }

    fn time_answer(&self, ret: &Return, request_id: Uuid, kind: DeadlineKind) {
        let Some(metrics) = &self.metrics else { return };
        let Some(request) = ret.supplier_requests.iter().find(|r| r.id == request_id) else {
            return;
        };
        let answered = match kind {
            DeadlineKind::Ack => request.acknowledged_at,
            DeadlineKind::Decision | DeadlineKind::Credit => request.answered_at,
        };
        if let Some(took) = answered.and_then(|at| (at - request.created_at).to_std().ok()) {
            metrics.record_response(request.supplier, kind, took);
        }
    }

    /// Records on return `id` that its request `request_id` reached the supplier (first time only).
    pub async fn delivered(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        request_id: Uuid,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let edit = |ret: &mut Return| Ok(ret.delivered(request_id, attempts, now)?.into());
        match self.change(tenant, id, 0, now, &edit, None).await {
            Ok(_)
            | Err(StoreError::Domain(DomainError::FailedPrecondition {
                reason: ErrorReason::AlreadyAnswered,
                ..
            })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Tells the seller that every delivery attempt of request `request_id` on return `id` failed.
    pub async fn delivery_failed(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        request_id: Uuid,
        attempts: u32,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let edit = |ret: &mut Return| Ok(ret.delivery_failed(request_id, attempts, now)?.into());
        self.change(tenant, id, 0, now, &edit, None)
            .await
            .map(|_| ())
    }

    /// Records the missed supplier deadlines of return `id` and takes its contract's breach action,
    /// in one transaction. Returns the deadlines recorded: none when nothing was due (another
    /// replica's clock was first).
    pub async fn enforce_deadlines(
        &self,
        tenant: &TenantId,
        id: ReturnId,
        ctx: &SlaContext<'_>,
    ) -> Result<Vec<(SupplierId, DeadlineKind)>, StoreError> {
        let now = self.clock.now();
        // The store may run the edit more than once (a retried transaction): the last one counts.
        let recorded = Mutex::new(Vec::new());
        let edit = |ret: &mut Return| {
            let events = ret.enforce_deadlines(now, ctx)?;
            *recorded.lock().unwrap_or_else(|p| p.into_inner()) = events
                .iter()
                .filter_map(|e| match &e.detail {
                    EventDetail::Breach(i, b) => {
                        Some((ret.supplier_requests.get(*i)?.supplier, b.kind))
                    }
                    _ => None,
                })
                .collect();
            Ok(Changed {
                events,
                settlement: None,
            })
        };
        match self.change(tenant, id, 0, now, &edit, None).await {
            Ok(_) => Ok(recorded.into_inner().unwrap_or_else(|p| p.into_inner())),
            Err(StoreError::Domain(DomainError::FailedPrecondition {
                reason: ErrorReason::ReturnNotOverdue,
                ..
            })) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Expires one overdue return, if it still is: safe to race with other replicas' sweeps, since
    /// the row lock and the return's own check decide.
    pub async fn expire(&self, tenant: &TenantId, id: ReturnId) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let edit = |ret: &mut Return| Ok(ret.expire(now)?.into());
        match self.change(tenant, id, 0, now, &edit, None).await {
            Ok(_) => Ok(true),
            Err(StoreError::Domain(
                DomainError::FailedPrecondition { .. }
                | DomainError::StatusConflict { .. }
                | DomainError::NotFound { .. },
            )) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Expires every overdue return; how many this call expired. Safe on several replicas at once.
    pub async fn expire_overdue(&self) -> Result<usize, StoreError> {
        /// Returns expired per round at most; the next round takes the rest.
        const ROUND: u32 = 100;
        let mut expired = 0;
        loop {
            let due = self.store.overdue_returns(self.clock.now(), ROUND).await?;
            let mut progressed = false;
            for (tenant, id) in &due {
                if self.expire(tenant, *id).await? {
                    expired += 1;
                    progressed = true;
                }
            }
            if due.len() < ROUND as usize || !progressed {
                return Ok(expired);
            }
        }
    }

    /// A return of the tenant; NOT_FOUND when it has none by that id.
    pub async fn get(&self, tenant: &TenantId, id: ReturnId) -> Result<Return, StoreError> {
        self.store.get_return(tenant, id).await?.ok_or_else(|| {
            DomainError::NotFound {
                resource: Resource::Return,
                id: id.to_string(),
            }
            .into()
        })
    }
}

/// A change with nothing to record: a clock found nothing due.
fn nothing_due() -> StoreError {
    DomainError::FailedPrecondition {
        reason: ErrorReason::ReturnNotOverdue,
        message: "nothing is due on the return".into(),
    }
    .into()
}

/// The missed deadlines `events` record, for the breach table.
fn breaches(ret: &Return, events: &[ReturnEvent]) -> Vec<NewBreach> {
    events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let EventDetail::Breach(index, b) = &e.detail else {
                return None;
            };
            let request = ret.supplier_requests.get(*index)?;
            let failed_over = events[i + 1..]
                .iter()
                .find_map(|later| match &later.detail {
                    EventDetail::FailedOver { to, .. } => Some(*to),
                    _ => None,
                });
            Some(NewBreach {
                request_id: request.id,
                supplier: request.supplier,
                request_kind: request.kind.as_str().to_owned(),
                deadline_kind: b.kind.as_str().to_owned(),
                deadline_at: b.deadline,
                breached_at: b.recorded_at,
                action: b.action.as_str().to_owned(),
                failover_supplier: failed_over,
                contract_version: ret.decision.contract_version,
            })
        })
        .collect()
}

/// The units of a return, per SKU, as the store counts them.
fn units(ret: &Return) -> Vec<(String, i64)> {
    ret.items()
        .iter()
        .map(|i| (i.sku.as_str().to_owned(), i64::from(i.quantity)))
        .collect()
}
