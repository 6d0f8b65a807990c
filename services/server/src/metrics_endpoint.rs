//! `GET /metrics` on the admin listener: the Prometheus scrape endpoint.
//!
//! A minimal HTTP/1.1 responder on tokio rather than a web framework: one route, no body to read,
//! one answer per connection (`Connection: close`), which every Prometheus scraper handles. Each
//! connection is background work of the server, so shutdown ends the endpoint with the rest.

use returnbridge_core::jobs::Background;
use returnbridge_core::metrics::{CONTENT_TYPE, Metrics};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Longest request head read; a scrape's is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;

/// How long a connection may take to send its request and read the answer.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `metrics` on `listener` until `background` stops.
pub fn spawn(listener: TcpListener, metrics: Metrics, background: &Background) {
    let jobs = background.clone();
    background.spawn(async move {
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => accepted,
                () = jobs.stopping() => return,
            };
            match stream {
                Ok((stream, _)) => {
                    let metrics = metrics.clone();
                    jobs.spawn(async move {
                        // A slow or silent client loses its connection, never the endpoint.
                        let answered =
                            tokio::time::timeout(CONNECTION_TIMEOUT, answer(stream, &metrics));
                        if let Ok(Err(e)) = answered.await {
                            tracing::debug!(error = %e, "metrics connection failed");
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a metrics connection failed");
                    // Out of file descriptors and the like: do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
}

async fn answer(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let head = read_head(&mut stream).await?;
    let response = respond(&head, metrics);
    stream.write_all(&response).await?;
    stream.shutdown().await
}

/// Reads up to the blank line that ends the request head (or the size limit, or end of stream).
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    Ok(head)
}

/// The whole HTTP response to a request head.
fn respond(head: &[u8], metrics: &Metrics) -> Vec<u8> {
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let mut parts = std::str::from_utf8(line).unwrap_or_default().split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // Prometheus may add query parameters; the path alone selects the route.
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => match metrics.encode() {
            Ok(text) => http_response(
                "200 OK",
                CONTENT_TYPE,
                if method == "HEAD" { "" } else { &text },
                text.len(),
            ),
            Err(_) => plain("500 Internal Server Error", "encoding the metrics failed\n"),
        },
        (_, "/metrics") => plain("405 Method Not Allowed", "GET /metrics\n"),
        _ => plain("404 Not Found", "not found; metrics are at /metrics\n"),
    }
}

fn plain(status: &str, body: &str) -> Vec<u8> {
    http_response(status, "text/plain; charset=utf-8", body, body.len())
}

fn http_response(status: &str, content_type: &str, body: &str, length: usize) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\n\
         connection: close\r\n\r\n{body}"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(response: Vec<u8>) -> String {
        String::from_utf8(response).unwrap()
    }

    #[test]
    fn a_scrape_answers_the_exposition_with_its_length() {
        let metrics = Metrics::new();
        let body = metrics.encode().unwrap();
        let answer = text(respond(
            b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n",
            &metrics,
        ));
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains(&format!("content-length: {}\r\n", body.len())));
        assert!(answer.contains("application/openmetrics-text"));
        assert!(answer.ends_with(&body));
    }

    #[test]
    fn other_paths_and_methods_are_refused() {
        let metrics = Metrics::new();
        assert!(text(respond(b"GET / HTTP/1.1\r\n\r\n", &metrics)).starts_with("HTTP/1.1 404"));
        assert!(
            text(respond(b"POST /metrics HTTP/1.1\r\n\r\n", &metrics)).starts_with("HTTP/1.1 405")
        );
        assert!(text(respond(b"\xff\xfe", &metrics)).starts_with("HTTP/1.1 404"));
    }
}
