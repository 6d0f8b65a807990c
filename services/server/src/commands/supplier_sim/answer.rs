//! The simulated supplier's answers, through SupplierCallbackService with its own key: acknowledge
//! every request, then decide an authorization request. Each call carries an idempotency key made
//! from the request id, so a call retried after a lost answer, or the same answer from a restarted
//! simulator, never counts twice.

use super::Verdict;
use crate::cli::ClientArgs;
use crate::commands::client::{Authenticated, connect, explain};
use anyhow::Context;
use returnbridge_proto::v1 as pb;
use returnbridge_proto::v1::supplier_callback_service_client::SupplierCallbackServiceClient;
use std::time::Duration;
use tonic::{Code, Request, Status};

/// Calls made before a transient failure is given up on.
const ATTEMPTS: u32 = 6;
/// The wait after the first transient failure, doubled after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest a callback may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// What the supplier said, and where the return stands after it.
pub struct Answer {
    /// The verdict, for authorization requests; other kinds are only acknowledged.
    pub verdict: Option<Verdict>,
    /// The return's status after the decision (AUTHORIZED even after a rejection when the customer
    /// is entitled by law or the seller's policy).
    pub status: Option<pb::ReturnStatus>,
}

/// Answers requests on the server.
#[derive(Clone)]
pub struct Answerer {
    client: SupplierCallbackServiceClient<Authenticated>,
    delay: Duration,
    verdict: Verdict,
}

impl Answerer {
    /// Connects to the server `args` names with the supplier key it holds.
    pub async fn connect(
        args: &ClientArgs,
        delay: Duration,
        verdict: Verdict,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: SupplierCallbackServiceClient::new(connect(args, None).await?),
            delay,
            verdict,
        })
    }

    /// Fails at once when the key cannot answer anything: a request nobody sent is NOT_FOUND for a
    /// supplier key, and UNAUTHENTICATED or PERMISSION_DENIED for any other.
    pub async fn check_key(&self) -> anyhow::Result<()> {
        let probe = pb::AcknowledgeRequestRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
        };
        match self.client.clone().acknowledge_request(probe).await {
            Ok(_) => Ok(()),
            Err(status) if status.code() == Code::NotFound => Ok(()),
            Err(status) => Err(explain(status)).context(
                "the server refused the key (supplier-sim answers with a supplier's callback key, \
                 in --api-key or RETURNBRIDGE_API_KEY: \
                 `returnbridge keys create --tenant SELLER --supplier SUPPLIER_ID` makes one)",
            ),
        }
    }

    /// Waits the delay, then acknowledges `request` and decides it when it asks for a decision.
    pub async fn answer(
        &self,
        request: &pb::ReceiveReturnRequestRequest,
    ) -> Result<Answer, Status> {
        tokio::time::sleep(self.delay).await;
        let id = &request.request_id;
        retrying(|| {
            let mut client = self.client.clone();
            let call = keyed(
                pb::AcknowledgeRequestRequest {
                    request_id: id.clone(),
                },
                &format!("supplier-sim-ack-{id}"),
            );
            async move { client.acknowledge_request(call?).await }
        })
        .await?;
        if request.kind != pb::SupplierRequestKind::AuthorizationRequest as i32 {
            return Ok(Answer {
                verdict: None,
                status: None,
            });
        }
        let verdict = self.verdict;
        let decided = retrying(|| {
            let mut client = self.client.clone();
            // The verdict is part of the key: a simulator restarted with the other verdict is told
            // ALREADY_ANSWERED, not that it reused a key.
            let call = keyed(
                decision(id, verdict),
                &format!("supplier-sim-decide-{verdict:?}-{id}").to_ascii_lowercase(),
            );
            async move { client.submit_decision(call?).await }
        })
        .await?
        .into_inner();
        Ok(Answer {
            verdict: Some(verdict),
            status: decided
                .supplier_return
                .and_then(|r| pb::ReturnStatus::try_from(r.status).ok()),
        })
    }
}

/// The decision on request `id`.
fn decision(id: &str, verdict: Verdict) -> pb::SubmitDecisionRequest {
    let decision = match verdict {
        Verdict::Approve => pb::SupplierDecision {
            verdict: pb::SupplierVerdict::Approve as i32,
            return_instructions: "Approved by supplier-sim: send the goods back as agreed.".into(),
            ..Default::default()
        },
        Verdict::Reject => pb::SupplierDecision {
            verdict: pb::SupplierVerdict::Reject as i32,
            reasons: vec![pb::SupplierReason {
                code: "SIMULATED_REJECTION".into(),
                message: "rejected by supplier-sim --verdict reject".into(),
            }],
            ..Default::default()
        },
    };
    pb::SubmitDecisionRequest {
        request_id: id.to_owned(),
        decision: Some(decision),
    }
}

/// `message` with its idempotency key and a deadline.
fn keyed<T>(message: T, key: &str) -> Result<Request<T>, Status> {
    let mut request = Request::new(message);
    let value = key
        .parse()
        .map_err(|_| Status::invalid_argument("the request id cannot be sent as metadata"))?;
    request.metadata_mut().insert("idempotency-key", value);
    request.set_timeout(CALL_TIMEOUT);
    Ok(request)
}

/// Calls `call` until it succeeds, fails for good, or the attempts run out; the same call each time,
/// so its idempotency key makes the repeats harmless.
async fn retrying<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut wait = FIRST_BACKOFF;
    for _ in 1..ATTEMPTS {
        match call().await {
            Err(status) if transient(status.code()) => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            done => return done,
        }
    }
    call().await
}

/// Codes a retry can cure: the server restarting, its database away, a full queue, a race.
fn transient(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted | Code::Aborted
    )
}

/// The key itself was refused: no later answer can work either.
pub fn refuses_the_key(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unauthenticated | Code::PermissionDenied
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_gives_a_reason_and_an_approval_none() {
        let reject = decision("r", Verdict::Reject).decision.unwrap();
        assert_eq!(reject.verdict, pb::SupplierVerdict::Reject as i32);
        assert_eq!(reject.reasons.len(), 1);
        let approve = decision("r", Verdict::Approve).decision.unwrap();
        assert_eq!(approve.verdict, pb::SupplierVerdict::Approve as i32);
        assert!(approve.reasons.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_and_lasting_ones_are_not() {
        let mut calls = 0;
        let got: Result<(), Status> = retrying(|| {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(Status::unavailable("restarting"))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(got.is_ok());
        assert_eq!(calls, 3);

        let mut calls = 0;
        let got: Result<(), Status> = retrying(|| {
            calls += 1;
            async { Err(Status::failed_precondition("ALREADY_ANSWERED")) }
        })
        .await;
        assert_eq!(got.unwrap_err().code(), Code::FailedPrecondition);
        assert_eq!(calls, 1);

        let mut calls = 0;
        let _ = retrying(|| {
            calls += 1;
            async { Err::<(), _>(Status::unavailable("down")) }
        })
        .await;
        assert_eq!(calls, ATTEMPTS);
    }
}
