//! Writing a recording while the session runs.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::utf8::Utf8Stream;
use super::Header;
use crate::clock::{Clock, SystemClock};
use crate::terminal::{PtyRequest, TermSize};
use crate::ConsoleError;

/// Where a session's recording goes and what it holds. A session cannot run without one: see
/// `Shell::record`.
pub struct Recording {
    sink: Box<dyn Write + Send>,
    title: Option<String>,
    record_input: bool,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("title", &self.title)
            .field("record_input", &self.record_input)
            .finish_non_exhaustive()
    }
}

impl Recording {
    /// A recording written to `sink`, output and resizes only, timed by the system clock. Each
    /// event is written with one `write_all` and then flushed, so an unbuffered sink (a file)
    /// holds every event the moment it happened.
    pub fn new(sink: impl Write + Send + 'static) -> Recording {
        Recording { sink: Box::new(sink), title: None, record_input: false, clock: Arc::new(SystemClock) }
    }

    /// A recording into a new file at `path`, readable by its owner only; an existing file is
    /// never overwritten.
    pub fn create_file(path: &Path) -> Result<Recording, ConsoleError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path).map_err(|e| ConsoleError::RecordingWrite {
            detail: format!("cannot create {}: {e}", path.display()),
        })?;
        Ok(Recording::new(file))
    }

    /// The header's title (the jump item's name, say).
    pub fn title(mut self, title: impl Into<String>) -> Recording {
        self.title = Some(title.into());
        self
    }

    /// Whether what the representative types is recorded too (`"i"` events).
    pub fn record_input(mut self, yes: bool) -> Recording {
        self.record_input = yes;
        self
    }

    /// Times the recording with `clock` instead of the system's.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Recording {
        self.clock = clock;
        self
    }

    /// Writes the header for a terminal like `pty` and returns the recorder of the session.
    pub(crate) fn start(self, pty: &PtyRequest) -> Result<Recorder, ConsoleError> {
        let header = Header {
            version: 2,
            width: pty.size().cols(),
            height: pty.size().rows(),
            timestamp: Some(self.clock.unix_seconds()),
            title: self.title,
            env: [("TERM".to_owned(), pty.term().to_owned())].into(),
        };
        let start = self.clock.monotonic();
        let mut inner = Inner {
            sink: self.sink,
            clock: self.clock,
            start,
            record_input: self.record_input,
            output: Utf8Stream::default(),
            input: Utf8Stream::default(),
            broken: None,
            finished: false,
        };
        let line = serde_json::to_string(&header).map_err(|e| ConsoleError::RecordingWrite {
            detail: format!("the header cannot be encoded: {e}"),
        })?;
        inner.write_line(line)?;
        Ok(Recorder(Arc::new(Mutex::new(inner))))
    }
}

/// The writer of one session's recording, shared by the session's output and input halves. The
/// first write error breaks it for good: every later call returns the error, and the session
/// ends (a session that cannot be recorded does not go on unrecorded).
#[derive(Clone)]
pub(crate) struct Recorder(Arc<Mutex<Inner>>);

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

struct Inner {
    sink: Box<dyn Write + Send>,
    clock: Arc<dyn Clock>,
    start: Duration,
    record_input: bool,
    output: Utf8Stream,
    input: Utf8Stream,
    /// Why the sink failed.
    broken: Option<String>,
    finished: bool,
}

impl Recorder {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock means a panic mid-write; the line may be cut, the recorder still works.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Output the endpoint sent.
    pub(crate) fn output(&self, bytes: &[u8]) -> Result<(), ConsoleError> {
        let mut inner = self.lock();
        let text = inner.output.decode(bytes);
        inner.event("o", &text)
    }

    /// Input the representative typed; written only when the policy records input.
    pub(crate) fn input(&self, bytes: &[u8]) -> Result<(), ConsoleError> {
        let mut inner = self.lock();
        if !inner.record_input {
            return inner.check();
        }
        let text = inner.input.decode(bytes);
        inner.event("i", &text)
    }

    /// The terminal was resized.
    pub(crate) fn resize(&self, size: TermSize) -> Result<(), ConsoleError> {
        self.lock().event("r", &size.to_string())
    }

    /// The end of the session: writes what is still held back of a cut character. Later calls,
    /// and any event after it, do nothing.
    pub(crate) fn finish(&self) -> Result<(), ConsoleError> {
        let mut inner = self.lock();
        if inner.finished {
            return Ok(());
        }
        let output = inner.output.finish();
        inner.event("o", &output)?;
        if inner.record_input {
            let input = inner.input.finish();
            inner.event("i", &input)?;
        }
        inner.finished = true;
        Ok(())
    }
}

impl Inner {
    fn check(&self) -> Result<(), ConsoleError> {
        match &self.broken {
            Some(detail) => Err(ConsoleError::RecordingWrite { detail: detail.clone() }),
            None => Ok(()),
        }
    }

    /// Writes one event; an empty text (all of it held back) writes nothing.
    fn event(&mut self, code: &str, text: &str) -> Result<(), ConsoleError> {
        self.check()?;
        if text.is_empty() || self.finished {
            return Ok(());
        }
        let elapsed = self.clock.monotonic().saturating_sub(self.start);
        // Microseconds, as asciinema writes them.
        let seconds = elapsed.as_micros() as f64 / 1_000_000.0;
        let line = serde_json::to_string(&(seconds, code, text)).map_err(|e| {
            ConsoleError::RecordingWrite { detail: format!("an event cannot be encoded: {e}") }
        })?;
        self.write_line(line)
    }

    fn write_line(&mut self, mut line: String) -> Result<(), ConsoleError> {
        self.check()?;
        line.push('\n');
        let written = self.sink.write_all(line.as_bytes()).and_then(|()| self.sink.flush());
        if let Err(e) = written {
            let detail = e.to_string();
            tracing::error!(code = "PCC020", error = %detail, "the session recording cannot be written");
            self.broken = Some(detail);
            return self.check();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recording::{Asciicast, EventData};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A clock the test moves: fixed wall time, monotonic time in milliseconds.
    struct Manual(AtomicU64);
    impl Clock for Manual {
        fn unix_seconds(&self) -> i64 {
            1_700_000_000
        }
        fn monotonic(&self) -> Duration {
            Duration::from_millis(self.0.load(Ordering::SeqCst))
        }
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn pty() -> PtyRequest {
        PtyRequest::xterm(TermSize::new(100, 30).unwrap())
    }

    #[test]
    fn events_are_timed_by_the_clock_and_written_at_once() {
        let clock = Arc::new(Manual(AtomicU64::new(5_000)));
        let sink = Shared::default();
        let rec = Recording::new(sink.clone()).title("web-01").clock(clock.clone()).start(&pty()).unwrap();
        let header = sink.text();
        assert_eq!(
            header,
            "{\"version\":2,\"width\":100,\"height\":30,\"timestamp\":1700000000,\"title\":\"web-01\",\
             \"env\":{\"TERM\":\"xterm-256color\"}}\n"
        );
        clock.0.store(6_250, Ordering::SeqCst);
        rec.output(b"$ ").unwrap();
        // Written the moment it happened: nothing buffered, no finish needed.
        assert_eq!(sink.text().lines().last(), Some("[1.25,\"o\",\"$ \"]"));
        clock.0.store(7_000, Ordering::SeqCst);
        rec.resize(TermSize::new(120, 40).unwrap()).unwrap();
        rec.input(b"whoami\r").unwrap();
        assert_eq!(sink.text().lines().last(), Some("[2.0,\"r\",\"120x40\"]"), "input is off by default");
    }

    #[test]
    fn input_is_recorded_only_when_asked_and_cut_characters_wait_for_their_end() {
        let clock = Arc::new(Manual(AtomicU64::new(0)));
        let sink = Shared::default();
        let rec = Recording::new(sink.clone()).record_input(true).clock(clock).start(&pty()).unwrap();
        let euro = "€".as_bytes();
        rec.output(&euro[..1]).unwrap();
        rec.input(b"ls\r").unwrap();
        rec.output(&euro[1..]).unwrap();
        rec.output(&[0xff]).unwrap();
        rec.output(&euro[..2]).unwrap();
        rec.finish().unwrap();
        rec.output(b"after the end").unwrap();
        let cast = Asciicast::parse(&sink.text()).unwrap();
        let data: Vec<_> = cast.events.iter().map(|e| e.data.clone()).collect();
        assert_eq!(
            data,
            [
                EventData::Input("ls\r".into()),
                EventData::Output("€".into()),
                EventData::Output("\u{fffd}".into()),
                EventData::Output("\u{fffd}".into()),
            ]
        );
    }

    proptest::proptest! {
        /// However the output arrives, the recording reads back to exactly that output.
        #[test]
        fn a_recording_reads_back_to_its_output(
            chunks in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16), 0..16),
        ) {
            let sink = Shared::default();
            let rec = Recording::new(sink.clone()).start(&pty()).unwrap();
            for chunk in &chunks {
                rec.output(chunk).unwrap();
            }
            rec.finish().unwrap();
            let cast = Asciicast::parse(&sink.text()).unwrap();
            proptest::prop_assert_eq!(cast.output(), String::from_utf8_lossy(&chunks.concat()).into_owned());
        }
    }

    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("No space left on device"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_sink_is_an_error_at_once_and_for_good() {
        let e = Recording::new(Full).start(&pty()).unwrap_err();
        assert_eq!(e.code(), "PCC020");
        assert!(e.to_string().contains("No space left"), "{e}");
    }

    #[test]
    fn a_recording_file_is_new_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.cast");
        let rec = Recording::create_file(&path).unwrap().start(&pty()).unwrap();
        rec.output(b"hello").unwrap();
        // Read while the recorder is alive: the file already holds the event.
        let cast = Asciicast::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(cast.output(), "hello");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(Recording::create_file(&path).unwrap_err().code(), "PCC020", "never overwritten");
    }
}
