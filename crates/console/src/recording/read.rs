//! Reading a recording back: the header and every event, checked.

use std::time::Duration;

use super::Header;
use crate::terminal::TermSize;
use crate::ConsoleError;

/// A parsed asciicast v2 recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Asciicast {
    pub header: Header,
    pub events: Vec<Event>,
    /// The last line was cut (the console stopped while writing it) and was left out.
    pub truncated: bool,
}

/// One event of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Since the start of the recording.
    pub time: Duration,
    pub data: EventData,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventData {
    /// `"o"`: the endpoint's output.
    Output(String),
    /// `"i"`: what the representative typed.
    Input(String),
    /// `"r"`: the terminal's new size.
    Resize(TermSize),
    /// `"m"`: a marker with its label.
    Marker(String),
}

impl Asciicast {
    /// Parses a recording. Events must be in time order. A cut last line (no final newline and
    /// not valid) is left out and reported in `truncated`: that is how a crash mid-write looks.
    pub fn parse(text: &str) -> Result<Asciicast, ConsoleError> {
        let mut lines = text.split_terminator('\n').enumerate().filter(|(_, l)| !l.trim().is_empty());
        let invalid = |line: usize, reason: String| ConsoleError::RecordingInvalid { line: line + 1, reason };
        let (n, first) = lines.next().ok_or_else(|| invalid(0, "the recording is empty".into()))?;
        let header: Header =
            serde_json::from_str(first).map_err(|e| invalid(n, format!("the header is not valid: {e}")))?;
        if header.version != 2 {
            return Err(invalid(n, format!("version {} (only version 2 is read)", header.version)));
        }
        TermSize::new(header.width, header.height).map_err(|e| invalid(n, e.to_string()))?;
        let ends_cut = !text.ends_with('\n');
        let last_line = text.split_terminator('\n').count().saturating_sub(1);
        let mut events = Vec::new();
        let mut truncated = false;
        let mut previous = Duration::ZERO;
        for (n, line) in lines {
            match parse_event(line) {
                Ok(event) if event.time < previous => {
                    return Err(invalid(n, "an event is earlier than the one before it".into()))
                }
                Ok(event) => {
                    previous = event.time;
                    events.push(event);
                }
                Err(_) if ends_cut && n == last_line => truncated = true,
                Err(reason) => return Err(invalid(n, reason)),
            }
        }
        Ok(Asciicast { header, events, truncated })
    }

    /// Everything the endpoint sent, in order: what a player shows.
    pub fn output(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match &e.data {
                EventData::Output(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

fn parse_event(line: &str) -> Result<Event, String> {
    let (seconds, code, data): (f64, String, String) =
        serde_json::from_str(line).map_err(|e| format!("not an event [time, code, data]: {e}"))?;
    let time =
        Duration::try_from_secs_f64(seconds).map_err(|_| format!("the time {seconds} is not valid"))?;
    let data = match code.as_str() {
        "o" => EventData::Output(data),
        "i" => EventData::Input(data),
        "m" => EventData::Marker(data),
        "r" => {
            let size = data
                .split_once('x')
                .and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)))
                .ok_or_else(|| format!("the resize {data:?} is not COLSxROWS"))?;
            EventData::Resize(TermSize::new(size.0, size.1).map_err(|e| e.to_string())?)
        }
        other => return Err(format!("unknown event code {other:?}")),
    };
    Ok(Event { time, data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever a recording file holds, reading it returns a recording or PCC021, never a panic.
        #[test]
        fn any_text_reads_or_fails_with_its_code(
            lines in proptest::collection::vec(
                prop_oneof!["\\PC{0,40}", r#"\[[0-9.eE+-]{1,8},"[oirmx]","[ -~]{0,10}"\]"#],
                0..8,
            ),
            newline in any::<bool>(),
        ) {
            let mut text = format!("{HEADER}\n{}", lines.join("\n"));
            if newline {
                text.push('\n');
            }
            if let Err(e) = Asciicast::parse(&text) {
                prop_assert_eq!(e.code(), "PCC021");
            }
        }
    }

    const HEADER: &str = r#"{"version":2,"width":80,"height":24,"timestamp":1,"env":{"TERM":"xterm"}}"#;

    #[test]
    fn reads_what_asciinema_writes() {
        let text = format!(
            "{HEADER}\n[0.5,\"o\",\"$ \"]\n[1.0,\"i\",\"ls\\r\"]\n[1.25,\"r\",\"100x30\"]\n[2,\"m\",\"\"]\n[2.5,\"o\",\"a\\r\\n\"]\n"
        );
        let cast = Asciicast::parse(&text).unwrap();
        assert_eq!(cast.header.width, 80);
        assert_eq!(cast.header.env["TERM"], "xterm");
        assert_eq!(cast.events.len(), 5);
        assert_eq!(cast.events[2].data, EventData::Resize(TermSize::new(100, 30).unwrap()));
        assert_eq!(cast.events[2].time, Duration::from_millis(1250));
        assert_eq!(cast.output(), "$ a\r\n");
        assert!(!cast.truncated);
    }

    #[test]
    fn a_cut_last_line_is_left_out_but_a_bad_line_elsewhere_is_an_error() {
        let cut = format!("{HEADER}\n[0.5,\"o\",\"ok\"]\n[0.7,\"o\",\"cu");
        let cast = Asciicast::parse(&cut).unwrap();
        assert!(cast.truncated);
        assert_eq!(cast.output(), "ok");
        for bad in [
            String::new(),
            "{\"version\":1,\"width\":80,\"height\":24}\n".to_owned(),
            "{\"version\":2,\"width\":0,\"height\":24}\n".to_owned(),
            format!("{HEADER}\n[0.7,\"o\",\"cu\n[0.8,\"o\",\"x\"]\n"),
            format!("{HEADER}\n[1.0,\"o\",\"a\"]\n[0.5,\"o\",\"b\"]\n"),
            format!("{HEADER}\n[-1.0,\"o\",\"a\"]\n"),
            format!("{HEADER}\n[1.0,\"x\",\"a\"]\n"),
            format!("{HEADER}\n[1.0,\"r\",\"80by24\"]\n"),
            format!("{HEADER}\n[1.0,\"r\",\"0x24\"]\n"),
        ] {
            let e = Asciicast::parse(&bad).unwrap_err();
            assert_eq!(e.code(), "PCC021", "{bad:?}: {e}");
        }
    }
}
