//! List paging: `page_size` (default 50, max 500) and opaque page tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use returnbridge_domain::Violations;

/// Page size when the caller sends none.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// Largest page served; larger requests are served this many.
pub const MAX_PAGE_SIZE: u32 = 500;
const TOKEN_VERSION: &str = "p1:";

/// The page size to serve: 0 means the default, larger than the maximum means the maximum.
pub fn page_size(requested: i32, v: &mut Violations) -> u32 {
    match u32::try_from(requested) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(n) => n.min(MAX_PAGE_SIZE),
        Err(_) => {
            v.add(
                "page_size",
                format!("must be between 0 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})"),
            );
            DEFAULT_PAGE_SIZE
        }
    }
}

/// Encodes the position after the last item served.
pub fn encode_token(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_VERSION}{position}"))
}

/// Decodes a token from `encode_token`; empty means the first page.
pub fn decode_token(token: &str, v: &mut Violations) -> Option<String> {
    if token.is_empty() {
        return None;
    }
    let position = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| s.strip_prefix(TOKEN_VERSION).map(str::to_owned));
    if position.is_none() {
        v.add(
            "page_token",
            "is not a token this service issued; pass next_page_token back unchanged",
        );
    }
    position
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_and_clamp() {
        let mut v = Violations::default();
        assert_eq!(page_size(0, &mut v), 50);
        assert_eq!(page_size(7, &mut v), 7);
        assert_eq!(page_size(10_000, &mut v), 500);
        assert!(v.is_empty());
        page_size(-1, &mut v);
        assert_eq!(v.as_slice()[0].field, "page_size");
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_a_violation() {
        let mut v = Violations::default();
        assert_eq!(
            decode_token(&encode_token("abc"), &mut v).as_deref(),
            Some("abc")
        );
        assert_eq!(decode_token("", &mut v), None);
        assert!(v.is_empty());
        assert_eq!(decode_token("!!!", &mut v), None);
        assert_eq!(v.as_slice()[0].field, "page_token");
    }
}
