//! An outage on demand: a TCP forwarder on loopback in front of the local emulator that a
//! test cuts and restores, so an endpoint can "stop mid-run" without stopping the emulator
//! the other tests share.
//!
//! Invariants: while cut, nothing listens on the forwarder's port (connections are
//! refused, as with a stopped endpoint) and every connection it had is closed, so pooled
//! client connections fail too; restoring listens on the same port again.

use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// A forwarder to one emulator that can be cut and restored.
#[derive(Debug)]
pub struct Outage {
    addr: SocketAddr,
    target: SocketAddr,
    running: Mutex<Option<Running>>,
}

#[derive(Debug)]
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Outage {
    /// A forwarder to the emulator at `endpoint` (`http://host:port`), forwarding.
    pub async fn start(endpoint: &str) -> Self {
        let target = endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse::<SocketAddr>()
            .unwrap_or_else(|e| panic!("{endpoint}: not http://<ip>:<port>: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("binding the forwarder: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let outage = Self {
            addr,
            target,
            running: Mutex::new(None),
        };
        outage.serve(listener);
        outage
    }

    /// The URL clients use instead of the emulator's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops listening and closes every forwarded connection; returns once both are done.
    pub async fn cut(&self) {
        let running = self.lock().take();
        if let Some(Running { stop, task }) = running {
            let _ = stop.send(());
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("rebinding {}: {e}", self.addr));
        self.serve(listener);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Running>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Accepts on `listener` and forwards each connection until told to stop; then drops
    /// the listener and ends every connection before finishing.
    fn serve(&self, listener: TcpListener) {
        let (stop, mut stopped) = oneshot::channel();
        let target = self.target;
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => {
                            connections.spawn(forward(client, target));
                        }
                        Err(_) => break,
                    },
                }
            }
            drop(listener);
            connections.shutdown().await;
        });
        *self.lock() = Some(Running { stop, task });
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        if let Some(running) = self.lock().take() {
            running.task.abort();
        }
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr) {
    if let Ok(mut upstream) = TcpStream::connect(target).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }
}
