//! A plain HTTP/1.1 client on a raw socket, for the JSON callback endpoint: what a supplier's web
//! stack sends, with no generated client in between.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTP answer.
#[derive(Debug)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The body as it came.
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// The value of header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error's `status` (`"INVALID_ARGUMENT"`), `ErrorInfo.reason` and field violations.
    pub fn error(&self) -> (String, String, Vec<String>) {
        let json = self.json();
        let error = &json["error"];
        assert_eq!(error["code"], self.status, "{json}");
        let details = error["details"].as_array().cloned().unwrap_or_default();
        let of = |kind: &str| {
            details
                .iter()
                .find(|d| d["@type"] == format!("type.googleapis.com/google.rpc.{kind}"))
                .cloned()
                .unwrap_or_default()
        };
        let fields = of("BadRequest")["fieldViolations"]
            .as_array()
            .map(|vs| {
                vs.iter()
                    .map(|v| v["field"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        (
            error["status"].as_str().unwrap_or_default().to_owned(),
            of("ErrorInfo")["reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            fields,
        )
    }
}

/// Sends one request (`Connection: close`, `Content-Length` from `body`) and reads the whole answer.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpAnswer {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send head");
    // A server that refuses early may close before reading a large body: what it answered counts.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse(&raw)
}

/// POSTs `body` as JSON with `authorization: Bearer <key>` when a key is given.
pub async fn post_json(
    addr: SocketAddr,
    path: &str,
    key: Option<&str>,
    extra: &[(&str, &str)],
    body: &serde_json::Value,
) -> HttpAnswer {
    let bearer = key.map(|k| format!("Bearer {k}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("Authorization", b.as_str()));
    }
    headers.extend_from_slice(extra);
    send(addr, "POST", path, &headers, body.to_string().as_bytes()).await
}

fn parse(raw: &[u8]) -> HttpAnswer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    HttpAnswer {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}
