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

/// Everything the domain can refuse. The api crate maps each variant to exactly one gRPC code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The request itself is malformed: INVALID_ARGUMENT with field violations.
    #[error("invalid request: {0}")]
    InvalidArgument(Violations),
    /// The named resource does not exist for this tenant (or belongs to another tenant).
    #[error("{resource} {id} not found")]
    NotFound {
        /// Kind of resource, upper snake case (`SUPPLIER`), used in the machine-readable reason.
        resource: &'static str,
        /// The identifier the caller gave.
        id: String,
    },
    /// The request is well formed but the resource's state does not allow it.
    #[error("{message}")]
    FailedPrecondition {
        /// Machine-readable reason (`RETURN_NOT_IN_TRANSIT`).
        reason: &'static str,
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
