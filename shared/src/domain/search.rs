//! Finding members by name (R7.5): the words of a name as a search matches them, and a
//! search as a person types it. A name word matches a query word it starts with, in any
//! case, `ё` and `е` alike.

/// The longest query the search takes, in characters; also how much of each word of a
/// name is indexed (a prefix of at most this many characters needs no more).
pub const MAX_QUERY_CHARS: usize = 100;

/// How many words of one name are searchable (the first ones, with the parts of
/// hyphenated words): each is an item written with the membership.
pub const MAX_NAME_TOKENS: usize = 10;

/// Text as the search compares it: lower case (Cyrillic and Latin alike), `ё` as `е`.
pub fn normalize(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).map(|c| if c == 'ё' { 'е' } else { c }).collect()
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}')
}

/// A word without what surrounds it (brackets, quotes, commas), at most
/// [`MAX_QUERY_CHARS`] characters; `#` is dropped (the table's keys use it).
fn clean(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric()).chars().filter(|c| *c != '#').take(MAX_QUERY_CHARS).collect()
}

/// The searchable words of a name, normalized, each once, in the name's order: the words
/// between white space, and the parts of a hyphenated one besides the whole
/// ("Петрова-Водкина": `петрова-водкина`, `петрова`, `водкина`). At most
/// [`MAX_NAME_TOKENS`].
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if !w.is_empty() && !out.contains(&w) && out.len() < MAX_NAME_TOKENS {
            out.push(w);
        }
    };
    for word in normalize(name).split_whitespace() {
        push(clean(word));
        if word.contains(is_hyphen) {
            for part in word.split(is_hyphen) {
                push(clean(part));
            }
        }
    }
    out
}

/// A search as typed: one or more words, each the start of a word of the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameQuery {
    /// The normalized query words, the longest (the most selective) first: the search
    /// reads the items of that word; the others must each start a word of the same name.
    pub words: Vec<String>,
    /// The whole query, normalized: an address starting with it matches too (for those
    /// who see addresses), when it is one word.
    pub whole: String,
}

impl NameQuery {
    /// Parses `q`: trimmed, 1 to [`MAX_QUERY_CHARS`] characters, with a letter or digit.
    pub fn parse(q: &str) -> Result<NameQuery, String> {
        let q = q.trim();
        if q.is_empty() {
            return Err("give the start of a name (or of an email address) to find".into());
        }
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        if q.chars().any(char::is_control) {
            return Err("must be one line without control characters".into());
        }
        let whole = normalize(q);
        let mut words: Vec<String> = Vec::new();
        for w in whole.split_whitespace().map(clean).filter(|w| !w.is_empty()) {
            if !words.contains(&w) {
                words.push(w);
            }
        }
        if words.is_empty() {
            return Err("give a letter or digit of a name to find".into());
        }
        // Stable: of words of one length, the first typed leads.
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        Ok(NameQuery { words, whole })
    }

    /// The word whose items the search reads.
    pub fn leading(&self) -> &str {
        &self.words[0]
    }

    /// Whether an address may match: the query is one word (an address has no spaces).
    pub fn may_match_email(&self) -> bool {
        !self.whole.contains(char::is_whitespace)
    }

    /// Whether a person with these name tokens (and, when it may be searched, this
    /// normalized address) matches, and at which of their words the search counts them:
    /// the smallest matching one of their words, so a person met at several words (or at
    /// a word and their address) is listed once. `None` when they do not match. The
    /// address counts after a word equal to it.
    pub fn counted_at<'a>(&self, tokens: &'a [String], email: Option<&'a str>) -> Option<(&'a str, bool)> {
        let others_match = self.words[1..].iter().all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())));
        let by_name = if others_match {
            tokens.iter().filter(|t| t.starts_with(self.leading())).map(|t| (t.as_str(), false)).min()
        } else {
            None
        };
        let by_email =
            email.filter(|e| self.may_match_email() && e.starts_with(self.whole.as_str())).map(|e| (e, true));
        match (by_name, by_email) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(name: &str) -> Vec<String> {
        name_tokens(name)
    }

    #[test]
    fn names_split_on_spaces_and_hyphens_in_any_case_with_yo_as_ye() {
        assert_eq!(tokens("Алёна  Петрова-Водкина"), ["алена", "петрова-водкина", "петрова", "водкина"]);
        assert_eq!(tokens("SEMENOV Пётр"), ["semenov", "петр"]);
        assert_eq!(tokens("Анна (Аня) Анна"), ["анна", "аня"]);
        assert_eq!(tokens("Жан–Поль #1"), ["жан–поль", "жан", "поль", "1"]);
        assert_eq!(tokens("- —"), Vec::<String>::new());
        let long = "а ".repeat(40) + &"б".repeat(300);
        let t = tokens(&long);
        assert_eq!(t, ["а", &"б".repeat(MAX_QUERY_CHARS)]);
        let many: String = (0..30).map(|i| format!("w{i} ")).collect();
        assert_eq!(tokens(&many).len(), MAX_NAME_TOKENS);
    }

    #[test]
    fn queries_are_bounded_and_normalized() {
        let q = NameQuery::parse("  Алё ").unwrap();
        assert_eq!((q.words.clone(), q.whole.as_str()), (vec!["але".to_string()], "але"));
        assert!(NameQuery::parse("   ").is_err());
        assert!(NameQuery::parse("--").is_err());
        assert!(NameQuery::parse(&"я".repeat(101)).is_err());
        assert!(NameQuery::parse(&"я".repeat(100)).is_ok());
        assert!(NameQuery::parse("a\u{0}").is_err());
        let q = NameQuery::parse("ан петро").unwrap();
        assert_eq!(q.leading(), "петро");
        assert!(!q.may_match_email());
    }

    #[test]
    fn a_person_counts_once_at_their_smallest_matching_word() {
        let t = tokens("Анна Андреевна Петрова");
        let q = NameQuery::parse("ан").unwrap();
        assert_eq!(q.counted_at(&t, None), Some(("андреевна", false)));
        assert_eq!(NameQuery::parse("пет").unwrap().counted_at(&t, None), Some(("петрова", false)));
        assert_eq!(NameQuery::parse("иван").unwrap().counted_at(&t, None), None);
        // Several words: each starts one of the name's words.
        // (the longest leads).
        assert_eq!(NameQuery::parse("анна пет").unwrap().counted_at(&t, None), Some(("анна", false)));
        assert_eq!(NameQuery::parse("ан петров").unwrap().counted_at(&t, None), Some(("петрова", false)));
        assert_eq!(NameQuery::parse("анна сид").unwrap().counted_at(&t, None), None);
        // The address, for those who may search it: where it is the smaller.
        let q = NameQuery::parse("an").unwrap();
        let latin = tokens("Anna Smith");
        assert_eq!(q.counted_at(&latin, Some("anna@school.test")), Some(("anna", false)));
        assert_eq!(q.counted_at(&latin, Some("an@school.test")), Some(("an@school.test", true)));
        assert_eq!(q.counted_at(&tokens("Борис"), Some("anna@school.test")), Some(("anna@school.test", true)));
        assert_eq!(q.counted_at(&tokens("Борис"), None), None);
    }
}
