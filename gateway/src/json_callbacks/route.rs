//! Which operation a request's method and path name. Paths follow Google's AIP-136 custom methods:
//! the resource, then `:verb`, always POST.

use hyper::Method;

/// The five SupplierCallbackService operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `AcknowledgeRequest`.
    Acknowledge,
    /// `SubmitDecision`.
    Decide,
    /// `ReportReceipt`.
    ReportReceipt,
    /// `ReportInspection`.
    ReportInspection,
    /// `ConfirmCredit`.
    ConfirmCredit,
}

/// Every operation with the collection its id names and its verb: the table the docs list.
const ROUTES: [(Operation, &str, &str); 5] = [
    (Operation::Acknowledge, "requests", "acknowledge"),
    (Operation::Decide, "requests", "decide"),
    (Operation::ReportReceipt, "returns", "reportReceipt"),
    (Operation::ReportInspection, "returns", "reportInspection"),
    (Operation::ConfirmCredit, "returns", "confirmCredit"),
];

/// Where every path starts.
pub const PREFIX: &str = "/v1/supplier/";

/// A request that names an operation.
#[derive(Debug, PartialEq, Eq)]
pub struct Route {
    /// What to call.
    pub operation: Operation,
    /// The id in the path: a request id or a return id, as the operation names it.
    pub id: String,
}

/// Why a request names no operation.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// No operation has this path.
    UnknownPath,
    /// The path is an operation's, but only POST calls it.
    MethodNotAllowed,
}

/// The operation `method` and `path` name (the path without its query).
pub fn route(method: &Method, path: &str) -> Result<Route, Miss> {
    let rest = path.strip_prefix(PREFIX).ok_or(Miss::UnknownPath)?;
    let (collection, rest) = rest.split_once('/').ok_or(Miss::UnknownPath)?;
    // Some HTTP clients escape the colon; the id never contains one either way.
    let (id, verb) = rest
        .rsplit_once(':')
        .or_else(|| rest.rsplit_once("%3A"))
        .or_else(|| rest.rsplit_once("%3a"))
        .ok_or(Miss::UnknownPath)?;
    if id.is_empty() || id.contains('/') {
        return Err(Miss::UnknownPath);
    }
    let operation = ROUTES
        .iter()
        .find(|(_, c, v)| *c == collection && *v == verb)
        .map(|(operation, _, _)| *operation)
        .ok_or(Miss::UnknownPath)?;
    if method != Method::POST {
        return Err(Miss::MethodNotAllowed);
    }
    Ok(Route {
        operation,
        id: id.to_owned(),
    })
}

/// Every path served, with its placeholder, for error messages.
pub fn paths() -> Vec<String> {
    ROUTES
        .iter()
        .map(|(operation, collection, verb)| {
            let id = match operation {
                Operation::Acknowledge | Operation::Decide => "{request_id}",
                _ => "{return_id}",
            };
            format!("POST {PREFIX}{collection}/{id}:{verb}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(path: &str) -> Result<Route, Miss> {
        route(&Method::POST, path)
    }

    #[test]
    fn each_operation_has_its_path() {
        let cases = [
            (
                "/v1/supplier/requests/r1:acknowledge",
                Operation::Acknowledge,
            ),
            ("/v1/supplier/requests/r1:decide", Operation::Decide),
            (
                "/v1/supplier/returns/r1:reportReceipt",
                Operation::ReportReceipt,
            ),
            (
                "/v1/supplier/returns/r1:reportInspection",
                Operation::ReportInspection,
            ),
            (
                "/v1/supplier/returns/r1:confirmCredit",
                Operation::ConfirmCredit,
            ),
            (
                "/v1/supplier/returns/r1%3AconfirmCredit",
                Operation::ConfirmCredit,
            ),
        ];
        for (path, operation) in cases {
            let id = "r1".to_owned();
            assert_eq!(post(path), Ok(Route { operation, id }), "{path}");
        }
    }

    #[test]
    fn anything_else_is_an_unknown_path() {
        for path in [
            "/",
            "/v1/supplier/requests/r1",
            "/v1/supplier/requests/:acknowledge",
            "/v1/supplier/requests/a/b:acknowledge",
            "/v1/supplier/returns/r1:acknowledge",
            "/v1/supplier/requests/r1:reportReceipt",
            "/v1/supplier/requests/r1:Acknowledge",
            "/v2/supplier/requests/r1:acknowledge",
        ] {
            assert_eq!(post(path), Err(Miss::UnknownPath), "{path}");
        }
    }

    #[test]
    fn an_operations_path_takes_only_post() {
        let path = "/v1/supplier/requests/r1:acknowledge";
        assert_eq!(route(&Method::GET, path), Err(Miss::MethodNotAllowed));
        assert_eq!(route(&Method::PUT, path), Err(Miss::MethodNotAllowed));
        assert_eq!(route(&Method::GET, "/nope"), Err(Miss::UnknownPath));
    }

    #[test]
    fn the_paths_listed_are_the_paths_served() {
        for listed in paths() {
            let path = listed
                .trim_start_matches("POST ")
                .replace("{request_id}", "x")
                .replace("{return_id}", "x");
            assert!(post(&path).is_ok(), "{listed}");
        }
    }
}
