//! Free-text fields: trimmed, bounded, without control characters.

pub fn required(raw: &str, max_chars: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    bounded(text, max_chars)
}

/// An optional text: empty means absent.
pub fn optional(raw: &str, max_chars: usize) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    bounded(text, max_chars).map(Some)
}

fn bounded(text: &str, max_chars: usize) -> Result<String, String> {
    if text.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_string())
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
}
