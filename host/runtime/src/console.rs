//! A plugin's standard output and standard error: captured in memory, capped,
//! and logged labelled with the plugin after each call.
//!
//! Unlike wasmtime's `MemoryOutputPipe`, a full console silently drops what
//! does not fit instead of failing the guest's write.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    dropped: usize,
}

/// A capped in-memory console stream; clones share one buffer.
#[derive(Debug, Clone)]
pub struct Console {
    capacity: usize,
    buffer: Arc<Mutex<Buffer>>,
}

impl Console {
    /// A console that keeps at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            buffer: Arc::new(Mutex::new(Buffer::default())),
        }
    }

    fn append(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        let room = self.capacity.saturating_sub(buffer.bytes.len());
        let kept = bytes.len().min(room);
        buffer.bytes.extend_from_slice(&bytes[..kept]);
        buffer.dropped = buffer.dropped.saturating_add(bytes.len() - kept);
    }

    /// What was written, lossily decoded, and how many bytes were dropped.
    pub fn contents(&self) -> (String, usize) {
        let buffer = self.buffer.lock().unwrap_or_else(PoisonError::into_inner);
        (
            String::from_utf8_lossy(&buffer.bytes).into_owned(),
            buffer.dropped,
        )
    }
}

impl IsTerminal for Console {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Console {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Console {
    async fn ready(&mut self) {}
}

impl OutputStream for Console {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl AsyncWrite for Console {
    fn poll_write(
        self: Pin<&mut Self>,
        _context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_console_drops_the_rest_and_counts_it() {
        let mut console = Console::new(5);
        assert!(console.write(Bytes::from_static(b"hello world")).is_ok());
        assert_eq!(console.contents(), ("hello".to_owned(), 6));
    }

    #[tokio::test]
    async fn both_stream_kinds_share_one_capped_buffer() -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;

        let console = Console::new(8);
        assert!(!console.is_terminal());
        let mut asynchronous = Box::into_pin(console.async_stream());
        asynchronous.write_all(b"abcd").await?;
        asynchronous.flush().await?;
        asynchronous.shutdown().await?;
        let mut stream = console.p2_stream();
        assert!(stream.check_write().is_ok_and(|room| room > 0));
        assert!(stream.write(Bytes::from_static(b"efghij")).is_ok());
        assert!(stream.flush().is_ok());
        stream.ready().await;
        assert_eq!(console.contents(), ("abcdefgh".to_owned(), 2));
        Ok(())
    }
}
