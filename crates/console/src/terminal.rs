//! What a session's pseudo-terminal looks like: its type (`TERM`) and size, checked before they
//! are sent to an endpoint or written into a recording.

use crate::ConsoleError;

/// The largest terminal the console asks for, in each direction (xterm.js in a very wide window
/// stays far below).
pub const MAX_DIMENSION: u16 = 1000;

/// A terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TermSize {
    cols: u16,
    rows: u16,
}

impl TermSize {
    /// A size of 1..=[`MAX_DIMENSION`] columns and rows.
    pub fn new(cols: u16, rows: u16) -> Result<TermSize, ConsoleError> {
        if !(1..=MAX_DIMENSION).contains(&cols) || !(1..=MAX_DIMENSION).contains(&rows) {
            return Err(ConsoleError::InvalidRequest {
                reason: format!("a terminal of {cols}x{rows}: columns and rows must be 1 to {MAX_DIMENSION}"),
            });
        }
        Ok(TermSize { cols, rows })
    }

    pub fn cols(&self) -> u16 {
        self.cols
    }

    pub fn rows(&self) -> u16 {
        self.rows
    }
}

impl Default for TermSize {
    /// 80x24, the VT100's size.
    fn default() -> Self {
        TermSize { cols: 80, rows: 24 }
    }
}

impl std::fmt::Display for TermSize {
    /// `COLSxROWS`, the form asciicast's resize events use.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

/// The pseudo-terminal a session asks the endpoint for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyRequest {
    term: String,
    size: TermSize,
}

impl PtyRequest {
    /// `term` is the `TERM` value: 1 to 64 characters of letters, digits and `.`, `_`, `+`, `-`
    /// (terminfo names), so that nothing else can travel in it.
    pub fn new(term: impl Into<String>, size: TermSize) -> Result<PtyRequest, ConsoleError> {
        let term = term.into();
        let ok = !term.is_empty()
            && term.len() <= 64
            && term.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'));
        if !ok {
            return Err(ConsoleError::InvalidRequest {
                reason: "the terminal type must be 1 to 64 letters, digits, '.', '_', '+' or '-'".into(),
            });
        }
        Ok(PtyRequest { term, size })
    }

    /// xterm.js's terminal type at `size`.
    pub fn xterm(size: TermSize) -> PtyRequest {
        PtyRequest { term: "xterm-256color".into(), size }
    }

    pub fn term(&self) -> &str {
        &self.term
    }

    pub fn size(&self) -> TermSize {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_terminal_types_are_bounded() {
        assert_eq!(TermSize::new(80, 24).unwrap().to_string(), "80x24");
        assert_eq!(TermSize::new(MAX_DIMENSION, 1).unwrap().cols(), MAX_DIMENSION);
        for (c, r) in [(0, 24), (80, 0), (MAX_DIMENSION + 1, 24), (80, u16::MAX)] {
            assert_eq!(TermSize::new(c, r).unwrap_err().code(), "PCC001", "{c}x{r}");
        }
        assert_eq!(
            PtyRequest::new("screen.xterm-256color", TermSize::default()).unwrap().term(),
            "screen.xterm-256color"
        );
        for bad in ["", "xterm\n", "x term", "xterm;rm", &"x".repeat(65)] {
            assert_eq!(PtyRequest::new(bad, TermSize::default()).unwrap_err().code(), "PCC001", "{bad:?}");
        }
    }
}
