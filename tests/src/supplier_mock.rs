//! A mock webhook supplier: a tiny HTTP/1.1 server on `127.0.0.1:0` that keeps every request it
//! gets and answers each with the next status of its script (204 once the script runs out), holds
//! its answers until released, or never answers at all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `POST`.
    pub method: String,
    /// `/hooks`.
    pub path: String,
    /// Header names lower-cased.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// When it had arrived whole.
    pub at: std::time::Instant,
    /// The sender's address (its end of the connection, which carried this request only).
    pub peer: SocketAddr,
}

impl Received {
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the mock answers.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// These statuses in turn (each with these extra headers), then 204. Status 0 never answers.
    Script(Vec<(u16, Vec<(String, String)>)>),
    /// Reads the request and never answers.
    Hang,
    /// Answers 204, but not before [`MockSupplier::release`] was called, and each request no sooner
    /// than this long after it arrived: a batch stays in flight until the test lets it go.
    Held(Duration),
}

/// A running mock supplier; stops when dropped.
pub struct MockSupplier {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    released: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl MockSupplier {
    /// Answers 204 to everything.
    pub async fn accepting() -> Self {
        Self::start(Behaviour::Script(Vec::new())).await
    }

    /// Answers with these statuses in turn, then 204.
    pub async fn answering(statuses: &[u16]) -> Self {
        Self::start(Behaviour::Script(
            statuses.iter().map(|s| (*s, Vec::new())).collect(),
        ))
        .await
    }

    /// Starts one.
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
        let addr = listener.local_addr().expect("mock addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(match &behaviour {
            Behaviour::Script(s) => s.clone(),
            Behaviour::Hang | Behaviour::Held(_) => Vec::new(),
        }));
        let hang = matches!(behaviour, Behaviour::Hang);
        let hold = match behaviour {
            Behaviour::Held(delay) => Some(delay),
            _ => None,
        };
        let (released, _) = tokio::sync::watch::channel(hold.is_none());
        let release = released.subscribe();
        let kept = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, peer)) = listener.accept().await else {
                    return;
                };
                let kept = kept.clone();
                let script = script.clone();
                let mut release = release.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket, peer).await else {
                        return;
                    };
                    let arrived = tokio::time::Instant::from_std(request.at);
                    kept.lock().unwrap().push(request);
                    if let Some(delay) = hold {
                        let _ = release.wait_for(|released| *released).await;
                        tokio::time::sleep_until(arrived + delay).await;
                    }
                    let (status, headers) = {
                        let mut script = script.lock().unwrap();
                        if hang {
                            (0, Vec::new())
                        } else if script.is_empty() {
                            (204, Vec::new())
                        } else {
                            script.remove(0)
                        }
                    };
                    if status == 0 {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                    let mut head = format!(
                        "HTTP/1.1 {status} Mock\r\nconnection: close\r\ncontent-length: 2\r\n"
                    );
                    for (name, value) in headers {
                        head.push_str(&format!("{name}: {value}\r\n"));
                    }
                    head.push_str("\r\nok");
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self {
            addr,
            received,
            released,
            task,
        }
    }

    /// Lets a [`Behaviour::Held`] mock answer: what it holds, and from now on everything.
    pub fn release(&self) {
        self.released.send_replace(true);
    }

    /// The URL to give the supplier.
    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until at least `n` requests arrived, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the mock supplier got {} requests, expected {n}",
            self.received().len()
        );
    }
}

impl Drop for MockSupplier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream, peer: SocketAddr) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Received {
        method,
        path,
        headers,
        body,
        at: std::time::Instant::now(),
        peer,
    })
}

/// A mock `SupplierInbox` gRPC server on `127.0.0.1:0`: keeps every request and answers each with the
/// next code of its script (OK once the script runs out).
pub struct MockInbox {
    /// Where it listens.
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<returnbridge_proto::v1::ReceiveReturnRequestRequest>>>,
    task: JoinHandle<()>,
}

#[derive(Clone)]
struct Inbox {
    received: Arc<Mutex<Vec<returnbridge_proto::v1::ReceiveReturnRequestRequest>>>,
    script: Arc<Mutex<Vec<tonic::Code>>>,
}

#[tonic::async_trait]
impl returnbridge_proto::v1::supplier_inbox_server::SupplierInbox for Inbox {
    async fn receive_return_request(
        &self,
        request: tonic::Request<returnbridge_proto::v1::ReceiveReturnRequestRequest>,
    ) -> Result<tonic::Response<returnbridge_proto::v1::ReceiveReturnRequestResponse>, tonic::Status>
    {
        self.received.lock().unwrap().push(request.into_inner());
        let code = {
            let mut script = self.script.lock().unwrap();
            if script.is_empty() {
                tonic::Code::Ok
            } else {
                script.remove(0)
            }
        };
        if code == tonic::Code::Ok {
            Ok(tonic::Response::new(
                returnbridge_proto::v1::ReceiveReturnRequestResponse {
                    acknowledged: false,
                },
            ))
        } else {
            Err(tonic::Status::new(code, "scripted failure"))
        }
    }
}

impl MockInbox {
    /// Starts one answering with `codes` in turn, then OK.
    pub async fn start(codes: &[tonic::Code]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind inbox");
        let addr = listener.local_addr().expect("inbox addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let inbox = Inbox {
            received: received.clone(),
            script: Arc::new(Mutex::new(codes.to_vec())),
        };
        let task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(
                    returnbridge_proto::v1::supplier_inbox_server::SupplierInboxServer::new(inbox),
                )
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        Self {
            addr,
            received,
            task,
        }
    }

    /// The endpoint to give the supplier.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits (up to 15 s) until at least `n` requests arrived, and returns them all.
    pub async fn wait_for(
        &self,
        n: usize,
    ) -> Vec<returnbridge_proto::v1::ReceiveReturnRequestRequest> {
        for _ in 0..300 {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the mock inbox got fewer than {n} requests");
    }
}

impl Drop for MockInbox {
    fn drop(&mut self) {
        self.task.abort();
    }
}
