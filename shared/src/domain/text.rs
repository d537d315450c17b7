//! Free-text fields: trimmed, bounded, without control characters.
//!
//! Single-line fields (names, short names, titles, positions, addresses, file names)
//! refuse every control character, line breaks and tabs included: they end up in mail
//! headers, file names and table cells, where a line break is an injection. Multi-line
//! fields (descriptions, reasons, post bodies) keep line breaks and tabs, with CRLF and CR
//! normalized to LF.

/// A single-line text that must be there.
pub fn required(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    bounded(text, max_chars, false)
}

/// An optional single-line text: empty means absent.
pub fn optional(raw: &str, max_chars: usize) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    bounded(text, max_chars, false).map(Some)
}

/// A multi-line text that must be there.
pub fn multiline_required(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = normalized_lines(raw);
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    bounded(&text, max_chars, true)
}

/// An optional multi-line text: empty means absent.
pub fn multiline_optional(raw: &str, max_chars: usize) -> Result<Option<String>, String> {
    let text = normalized_lines(raw);
    if text.is_empty() {
        return Ok(None);
    }
    bounded(&text, max_chars, true).map(Some)
}

/// `text` made fit for one line whatever it holds (for a mail header, say): every control
/// character and line separator becomes a space, runs of white space one space.
pub fn one_line(text: &str) -> String {
    let spaced: String = text.chars().map(|c| if c.is_control() || c.is_whitespace() { ' ' } else { c }).collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn normalized_lines(raw: &str) -> String {
    raw.replace("\r\n", "\n").replace('\r', "\n").trim().to_string()
}

fn bounded(text: &str, max_chars: usize, multiline: bool) -> Result<String, String> {
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    let allowed = |c: char| multiline && (c == '\n' || c == '\t');
    let line_separator = |c: char| !multiline && (c == '\u{2028}' || c == '\u{2029}');
    if text.chars().any(|c| (c.is_control() && !allowed(c)) || line_separator(c)) {
        return Err(if multiline {
            "must not contain control characters".into()
        } else {
            "must be one line without control characters (no line breaks or tabs)".into()
        });
    }
    Ok(text.to_string())
}

/// A count with its thousands grouped, as the project's messages write them: `1,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(required("  Школа №1 ", 10).unwrap(), "Школа №1");
        assert!(required("   ", 10).is_err());
        assert!(required("abcdefghijk", 10).is_err());
        assert_eq!(optional("", 10).unwrap(), None);
        assert!(optional("a\u{0}b", 10).is_err());
    }

    #[test]
    fn single_line_fields_refuse_line_breaks_and_every_control_character() {
        let bad = [
            "Acme\r\nBcc: x@evil.example",
            "a\nb",
            "a\rb",
            "a\tb",
            "a\u{7f}b",
            "a\u{85}b",
            "a\u{1b}[31mb",
            "a\u{2028}b",
        ];
        for bad in bad {
            assert!(required(bad, 100).is_err(), "{bad:?}");
            assert!(optional(bad, 100).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn multi_line_fields_keep_lines_and_normalize_their_ends() {
        assert_eq!(multiline_required(" a\r\nb\rc\n\td ", 100).unwrap(), "a\nb\nc\n\td");
        assert_eq!(multiline_optional(" \r\n ", 100).unwrap(), None);
        assert!(multiline_required("a\u{0}b", 100).is_err());
        assert!(multiline_required("a\u{1b}b", 100).is_err());
    }

    #[test]
    fn one_line_removes_every_line_break() {
        assert_eq!(one_line("Acme\r\nBcc: x@evil.example"), "Acme Bcc: x@evil.example");
        assert_eq!(one_line("a\u{85}b\u{2028}c"), "a b c");
    }
}
