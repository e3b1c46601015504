//! A command run in a pseudo-terminal, as a person at a terminal would run it
//! (`tests/interop/py/drive_terminal.py`): for `portcullis console connect`, which puts the
//! terminal in raw mode and so cannot be driven through pipes.

use std::process::{Command, Output};

use crate::repo_root;

/// Runs `argv` in a pty: picks the first offer when `pick`, waits for the shell's prompt, types
/// `whoami` and waits for `expect_user`, then sends `last` (`exit 6\n`, or `\x1d` for Ctrl-],
/// written with Python's escapes). Returns what the terminal showed (stdout) and the command's
/// exit status; a client that hangs is killed after 60 s and fails.
pub fn drive(argv: &[impl AsRef<str>], expect_user: &str, pick: bool, last: &str) -> Output {
    let script = repo_root().join("tests/interop/py/drive_terminal.py");
    let mut c = Command::new("timeout");
    c.arg("60").arg("python3").arg(script);
    c.args(argv.iter().map(|a| a.as_ref()));
    c.env("EXPECT_USER", expect_user).env("SEND_LAST", last);
    if pick {
        c.env("PICK", "1");
    }
    c.output().expect("run python3 (tests/interop/py/drive_terminal.py)")
}
