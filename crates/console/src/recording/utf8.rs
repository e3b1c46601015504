//! Incremental UTF-8 decoding for recordings: asciicast events hold JSON strings, while a terminal
//! stream arrives in chunks that may split a character. A sequence cut at the end of a chunk is
//! held back until the next chunk completes it; invalid bytes become U+FFFD, exactly as
//! `String::from_utf8_lossy` would decode the whole stream at once.

/// The decoder of one stream (a session's output, or its input).
#[derive(Debug, Default)]
pub(crate) struct Utf8Stream {
    /// The start of a character cut by the end of the last chunk (at most 3 bytes).
    held: Vec<u8>,
}

impl Utf8Stream {
    /// The text of `chunk`, after what was held back from the previous one.
    pub(crate) fn decode(&mut self, chunk: &[u8]) -> String {
        let mut bytes = std::mem::take(&mut self.held);
        bytes.extend_from_slice(chunk);
        let mut out = String::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    out.push_str(text);
                    return out;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // `valid` is UTF-8 by construction; lossy decoding just avoids an unwrap.
                    out.push_str(&String::from_utf8_lossy(valid));
                    match e.error_len() {
                        Some(len) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[len..];
                        }
                        None => {
                            self.held = after.to_vec();
                            return out;
                        }
                    }
                }
            }
        }
    }

    /// What is still held back at the end of the stream: U+FFFD for a cut character, else "".
    pub(crate) fn finish(&mut self) -> String {
        if std::mem::take(&mut self.held).is_empty() {
            String::new()
        } else {
            char::REPLACEMENT_CHARACTER.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_character_split_across_chunks_is_decoded_whole() {
        let mut s = Utf8Stream::default();
        let bytes = "é€😀".as_bytes();
        let mut out = String::new();
        for b in bytes {
            out.push_str(&s.decode(std::slice::from_ref(b)));
        }
        out.push_str(&s.finish());
        assert_eq!(out, "é€😀");
    }

    proptest! {
        /// However the stream is cut, the text equals the lossy decoding of the whole.
        #[test]
        fn chunked_decoding_equals_whole_lossy_decoding(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..12),
            utf8 in "\\PC{0,20}",
        ) {
            // Mix valid multi-byte text in, so that splits inside characters are common.
            let mut chunks = chunks;
            let text_bytes = utf8.as_bytes();
            let mid = text_bytes.len() / 2;
            chunks.insert(0, text_bytes[..mid].to_vec());
            chunks.push(text_bytes[mid..].to_vec());
            let mut s = Utf8Stream::default();
            let mut out = String::new();
            for c in &chunks {
                out.push_str(&s.decode(c));
            }
            out.push_str(&s.finish());
            let whole: Vec<u8> = chunks.concat();
            prop_assert_eq!(out, String::from_utf8_lossy(&whole).into_owned());
        }
    }
}
