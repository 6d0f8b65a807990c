//! The domain's error: what went wrong in the caller's terms, with no transport in it.

use std::fmt;

/// One rule a request broke, named by the field's path in the request (`supplier.display_name`,
/// `items[2].quantity`), so a client can point at the exact input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Dotted path of the offending field, as it is spelled in the proto request.
    pub field: String,
    /// What is wrong and what a valid value looks like.
    pub description: String,
}

/// Collects every violation of a request, so one answer lists them all rather than the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    /// Records a violation of `field`.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Records a violation of `field` unless `ok` holds.
    pub fn check(&mut self, ok: bool, field: impl Into<String>, description: impl Into<String>) {
        if !ok {
            self.add(field, description);
        }
    }

    /// Checks free text (a note, a comment, a description): at most `max` characters, and no NUL or
    /// other control character but line breaks and tabs, which no store can keep faithfully.
    pub fn text(&mut self, field: impl Into<String>, raw: &str, max: usize) {
        let field = field.into();
        if raw.chars().count() > max {
            self.add(field, format!("must be at most {max} characters"));
        } else if raw
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.add(
                field,
                "must not contain NUL or other control characters (line breaks and tabs are fine)",
            );
        }
    }

    /// Keeps the value of a parse, or records its violation under `field`.
    pub fn take<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        parsed
            .map_err(|description| self.add(field, description))
            .ok()
    }

    /// Adds every violation of `other`, as they are.
    pub fn append(&mut self, other: Violations) {
        self.0.extend(other.0);
    }

    /// Moves violations found in a nested message under `prefix`.
    pub fn extend_prefixed(&mut self, prefix: &str, other: Violations) {
        for v in other.0 {
            self.add(format!("{prefix}.{}", v.field), v.description);
        }
    }

    /// `Ok(())` when nothing was recorded, otherwise the whole list as [`DomainError::InvalidArgument`].
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::InvalidArgument(self))
        }
    }

    /// [`finish`](Self::finish), then the value parsed alongside: a parser that gave nothing records
    /// a violation, so `None` with none recorded still answers INVALID_ARGUMENT on `field`, never a
    /// panic.
    pub fn finish_with<T>(self, value: Option<T>, field: &str) -> Result<T, DomainError> {
        self.finish()?;
        value.ok_or_else(|| DomainError::invalid(field, "could not be read"))
    }

    /// The recorded violations, in the order they were found.
    pub fn as_slice(&self) -> &[FieldViolation] {
        &self.0
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.field, v.description)?;
        }
        Ok(())
    }
}

named_enum!(
    /// The `ErrorInfo.reason` of every refusal Returnbridge answers (domain `returnbridge`): a
    /// closed list, the one in common.proto (a test keeps them equal). Never renamed: clients
    /// switch on them.
    ErrorReason {
        /// INVALID_ARGUMENT: the request is malformed; `BadRequest` names every field.
        InvalidArgument => "INVALID_ARGUMENT",
        /// UNAUTHENTICATED: no `authorization` metadata.
        ApiKeyMissing => "API_KEY_MISSING",
        /// UNAUTHENTICATED: `authorization` is not `Bearer <key>`.
        ApiKeyMalformed => "API_KEY_MALFORMED",
        /// UNAUTHENTICATED: no such key.
        ApiKeyInvalid => "API_KEY_INVALID",
        /// UNAUTHENTICATED: the key was revoked (open streams end with it too).
        ApiKeyRevoked => "API_KEY_REVOKED",
        /// PERMISSION_DENIED: the key lacks the scope the call needs (metadata `scope`).
        MissingScope => "MISSING_SCOPE",
        /// PERMISSION_DENIED: a supplier's key called the seller's surface.
        SupplierKeyNotAllowed => "SUPPLIER_KEY_NOT_ALLOWED",
        /// NOT_FOUND: no such supplier for this tenant (metadata `id`).
        SupplierNotFound => "SUPPLIER_NOT_FOUND",
        /// NOT_FOUND: no such contract version, or none in effect at the instant asked.
        ContractNotFound => "CONTRACT_NOT_FOUND",
        /// NOT_FOUND: no such return for this tenant.
        ReturnNotFound => "RETURN_NOT_FOUND",
        /// NOT_FOUND: no such supplier request addressed to the calling supplier.
        SupplierRequestNotFound => "SUPPLIER_REQUEST_NOT_FOUND",
        /// FAILED_PRECONDITION: no contract version was in effect at the order time.
        NoContractInEffect => "NO_CONTRACT_IN_EFFECT",
        /// FAILED_PRECONDITION: the return's status does not allow the change (metadata
        /// `current_status`).
        ReturnStatusConflict => "RETURN_STATUS_CONFLICT",
        /// FAILED_PRECONDITION: a quote needs a return that is still open.
        ReturnNotQuotable => "RETURN_NOT_QUOTABLE",
        /// FAILED_PRECONDITION: a final split exists only once the return is resolved.
        ReturnNotResolved => "RETURN_NOT_RESOLVED",
        /// FAILED_PRECONDITION: a rejected return has no split.
        ReturnRejected => "RETURN_REJECTED",
        /// FAILED_PRECONDITION: the return's ship-by deadline has not passed.
        ReturnNotOverdue => "RETURN_NOT_OVERDUE",
        /// FAILED_PRECONDITION: the supplier request was answered already, differently.
        AlreadyAnswered => "ALREADY_ANSWERED",
        /// FAILED_PRECONDITION: the supplier request no longer takes answers (handed to the backup).
        RequestSuperseded => "REQUEST_SUPERSEDED",
        /// FAILED_PRECONDITION: the answer does not fit the request's kind (a decision on a NOTICE).
        RequestKindMismatch => "REQUEST_KIND_MISMATCH",
        /// ABORTED: `expected_version` is stale (metadata `expected_version`, `current_version`).
        VersionConflict => "VERSION_CONFLICT",
        /// INVALID_ARGUMENT: the idempotency key was used for a different request.
        IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
        /// UNAVAILABLE: the database cannot be reached; `RetryInfo` says when to retry.
        DatabaseUnavailable => "DATABASE_UNAVAILABLE",
    }
);

/// A kind of resource a caller names by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A supplier of the tenant.
    Supplier,
    /// A supplier's contract version.
    Contract,
    /// A return.
    Return,
    /// A request forwarded to a supplier.
    SupplierRequest,
}

impl Resource {
    /// The resource as people say it (`supplier`).
    pub fn noun(self) -> &'static str {
        match self {
            Resource::Supplier => "supplier",
            Resource::Contract => "contract",
            Resource::Return => "return",
            Resource::SupplierRequest => "supplier request",
        }
    }

    /// The reason a NOT_FOUND for it carries.
    pub fn not_found(self) -> ErrorReason {
        match self {
            Resource::Supplier => ErrorReason::SupplierNotFound,
            Resource::Contract => ErrorReason::ContractNotFound,
            Resource::Return => ErrorReason::ReturnNotFound,
            Resource::SupplierRequest => ErrorReason::SupplierRequestNotFound,
        }
    }
}

/// Everything the domain can refuse. The api crate maps each variant to exactly one gRPC code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The request itself is malformed: INVALID_ARGUMENT with field violations.
    #[error("invalid request: {0}")]
    InvalidArgument(Violations),
    /// The named resource does not exist for this tenant (or belongs to another tenant).
    #[error("{} {id} not found", resource.noun())]
    NotFound {
        /// Kind of resource.
        resource: Resource,
        /// The identifier the caller gave.
        id: String,
    },
    /// The request is well formed but the resource's state does not allow it.
    #[error("{message}")]
    FailedPrecondition {
        /// Machine-readable reason.
        reason: ErrorReason,
        /// What is wrong and what to do about it.
        message: String,
    },
    /// The return's status does not allow the change (FAILED_PRECONDITION `RETURN_STATUS_CONFLICT`).
    #[error("{message}")]
    StatusConflict {
        /// The status the return is in (`IN_TRANSIT`), for clients to switch on.
        current: &'static str,
        /// What is wrong and which statuses would allow it.
        message: String,
    },
    /// `expected_version` no longer matches: someone else changed the resource first.
    #[error("version conflict: expected {expected}, current {current}")]
    VersionConflict {
        /// Version the caller based its change on.
        expected: i64,
        /// Version stored now; re-read and retry against it.
        current: i64,
    },
    /// The same idempotency key was sent with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
}

impl DomainError {
    /// A single-field INVALID_ARGUMENT.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut v = Violations::default();
        v.add(field, description);
        DomainError::InvalidArgument(v)
    }
}
