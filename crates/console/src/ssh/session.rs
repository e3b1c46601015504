//! A running shell: set up on a PTY, then, once given its recording, a byte stream both ways
//! with resize and close. Every byte of output, every resize and (when the policy asks) every
//! byte of input passes through the recorder before it goes on.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use russh::client::{self, Handle};
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};

use super::Pinning;
use crate::recording::{Recorder, Recording};
use crate::terminal::{PtyRequest, TermSize};
use crate::ConsoleError;

/// The authenticated SSH connection a shell runs on.
pub(crate) struct Connection {
    handle: Handle<Pinning>,
    host: String,
    port: u16,
    /// The console ended the session itself, so the end of the stream is no failure.
    closing: AtomicBool,
}

impl Connection {
    pub(crate) fn new(handle: Handle<Pinning>, host: String, port: u16) -> Arc<Connection> {
        Arc::new(Connection { handle, host, port, closing: AtomicBool::new(false) })
    }

    fn failed(&self, detail: impl std::fmt::Display) -> ConsoleError {
        ConsoleError::SessionFailed { host: self.host.clone(), port: self.port, detail: detail.to_string() }
    }

    fn refused(&self, what: &'static str) -> ConsoleError {
        ConsoleError::ChannelRefused { host: self.host.clone(), port: self.port, what }
    }
}

/// A shell on a PTY, authenticated and waiting for its recording.
pub struct Shell {
    connection: Arc<Connection>,
    channel: Channel<client::Msg>,
    pty: PtyRequest,
    /// Output that arrived while the shell was being set up.
    early: VecDeque<Bytes>,
}

impl std::fmt::Debug for Shell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shell")
            .field("host", &self.connection.host)
            .field("port", &self.connection.port)
            .field("pty", &self.pty)
            .finish_non_exhaustive()
    }
}

impl Shell {
    /// Opens a session channel, asks for the PTY and the shell, and waits for both answers.
    pub(crate) async fn start(connection: Arc<Connection>, pty: PtyRequest) -> Result<Shell, ConsoleError> {
        let mut channel = connection.handle.channel_open_session().await.map_err(|e| connection.failed(e))?;
        let size = pty.size();
        channel
            .request_pty(true, pty.term(), size.cols().into(), size.rows().into(), 0, 0, &[])
            .await
            .map_err(|e| connection.failed(e))?;
        channel.request_shell(true).await.map_err(|e| connection.failed(e))?;
        // The server answers the two requests in order (RFC 4254 §5.4).
        let mut answered = 0;
        let mut early = VecDeque::new();
        while answered < 2 {
            match channel.wait().await {
                Some(ChannelMsg::Success) => answered += 1,
                Some(ChannelMsg::Failure) if answered == 0 => {
                    return Err(connection.refused("a terminal (pty-req)"))
                }
                Some(ChannelMsg::Failure) => return Err(connection.refused("a shell")),
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    early.push_back(data)
                }
                Some(ChannelMsg::ExitStatus { .. } | ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    return Err(connection.failed("the endpoint closed the session while it was being set up"))
                }
                Some(_) => {}
            }
        }
        Ok(Shell { connection, channel, pty, early })
    }

    /// The terminal the shell runs on.
    pub fn pty(&self) -> &PtyRequest {
        &self.pty
    }

    /// Starts the recording (its header describes this shell's terminal) and hands out the
    /// session. If the recording cannot start, the connection is closed.
    pub fn record(self, recording: Recording) -> Result<Session, ConsoleError> {
        let recorder = recording.start(&self.pty)?;
        let (read, write) = self.channel.split();
        Ok(Session {
            output: SessionOutput {
                read,
                early: self.early,
                recorder: recorder.clone(),
                connection: self.connection.clone(),
                ended: false,
            },
            input: SessionInput { write, recorder, connection: self.connection },
        })
    }
}

/// A recorded shell session, in two halves that can be driven concurrently.
#[derive(Debug)]
pub struct Session {
    output: SessionOutput,
    input: SessionInput,
}

impl Session {
    pub fn split(self) -> (SessionOutput, SessionInput) {
        (self.output, self.input)
    }
}

/// What the endpoint sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Terminal output (a PTY merges stderr into it; stray extended data is passed on too).
    Data(Bytes),
    /// The shell ended with this status.
    Exited(u32),
    /// The shell was killed by this signal (`TERM`, `KILL`, …).
    Killed(String),
}

/// The endpoint-to-representative half.
pub struct SessionOutput {
    read: ChannelReadHalf,
    early: VecDeque<Bytes>,
    recorder: Recorder,
    connection: Arc<Connection>,
    ended: bool,
}

impl std::fmt::Debug for SessionOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionOutput").field("ended", &self.ended).finish_non_exhaustive()
    }
}

impl SessionOutput {
    /// The next output, recorded; `Ok(None)` once the session is over. A lost connection (not
    /// closed by the console or the endpoint) is `SessionFailed`; a recording that cannot be
    /// written is `RecordingWrite`, after which the session must be closed. Cancel-safe: a
    /// `recv` dropped before it completes loses no output.
    pub async fn recv(&mut self) -> Result<Option<Output>, ConsoleError> {
        if let Some(data) = self.early.pop_front() {
            self.recorder.output(&data)?;
            return Ok(Some(Output::Data(data)));
        }
        if self.ended {
            return Ok(None);
        }
        loop {
            match self.read.wait().await {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    self.recorder.output(&data)?;
                    return Ok(Some(Output::Data(data)));
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => return Ok(Some(Output::Exited(exit_status))),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    let name = match signal_name {
                        russh::Sig::Custom(name) => name,
                        other => format!("{other:?}"),
                    };
                    return Ok(Some(Output::Killed(name)));
                }
                Some(ChannelMsg::Close) => return self.end(None),
                Some(_) => {}
                None if self.connection.closing.load(Ordering::SeqCst) => return self.end(None),
                None => {
                    let lost = self.connection.failed("the connection to the endpoint was lost");
                    return self.end(Some(lost));
                }
            }
        }
    }

    fn end(&mut self, failure: Option<ConsoleError>) -> Result<Option<Output>, ConsoleError> {
        self.ended = true;
        self.recorder.finish()?;
        match failure {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }
}

/// The representative-to-endpoint half.
pub struct SessionInput {
    write: ChannelWriteHalf<client::Msg>,
    recorder: Recorder,
    connection: Arc<Connection>,
}

impl std::fmt::Debug for SessionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionInput").field("host", &self.connection.host).finish_non_exhaustive()
    }
}

impl SessionInput {
    /// Sends what the representative typed (recorded first when the policy records input).
    pub async fn send(&self, data: &[u8]) -> Result<(), ConsoleError> {
        self.recorder.input(data)?;
        self.write.data_bytes(Bytes::copy_from_slice(data)).await.map_err(|e| self.connection.failed(e))
    }

    /// Tells the endpoint the terminal's new size (recorded first).
    pub async fn resize(&self, size: TermSize) -> Result<(), ConsoleError> {
        self.recorder.resize(size)?;
        self.write
            .window_change(size.cols().into(), size.rows().into(), 0, 0)
            .await
            .map_err(|e| self.connection.failed(e))
    }

    /// Ends the session: closes the channel, disconnects and finishes the recording. The output
    /// half then ends with `Ok(None)`.
    pub async fn close(self) -> Result<(), ConsoleError> {
        self.connection.closing.store(true, Ordering::SeqCst);
        // The endpoint may be gone already; the session is over either way.
        let _ = self.write.eof().await;
        let _ = self.write.close().await;
        let _ =
            self.connection.handle.disconnect(russh::Disconnect::ByApplication, "session closed", "en").await;
        tracing::info!(host = %self.connection.host, port = self.connection.port, "SSH session closed by the console");
        self.recorder.finish()
    }
}
