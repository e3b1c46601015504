//! The binary under test, configured by its arguments alone.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `portcullis` at `bin` with every `PORTCULLIS_*` variable of the test's environment removed
/// (only the arguments, and what a test adds on purpose, configure the binary under test) and
/// the log at info level.
pub fn portcullis(bin: impl AsRef<Path>) -> Command {
    let mut c = Command::new(bin.as_ref());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PORTCULLIS_") {
            c.env_remove(name);
        }
    }
    c.env("PORTCULLIS_LOG", "info");
    c
}

/// Runs `BIN --data DATA ARGS…` with `stdin` (none: an empty stdin); returns its output.
pub fn run_cli(bin: impl AsRef<Path>, data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = portcullis(bin)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run portcullis");
    if let Some(input) = stdin {
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    }
    child.wait_with_output().expect("wait for portcullis")
}
