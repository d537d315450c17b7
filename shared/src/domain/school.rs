//! Academic years and classes (SPEC R3.1, R3.2).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

use super::text;

/// An academic year, 1 September to 31 August, written `2026/2027`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AcademicYear {
    /// The calendar year it starts in.
    pub start: i32,
}

impl AcademicYear {
    pub fn containing(date: Date) -> Self {
        let start = if date.month() >= Month::September { date.year() } else { date.year() - 1 };
        AcademicYear { start }
    }

    pub fn current() -> Self {
        Self::containing(time::OffsetDateTime::now_utc().date())
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let err = || "must be an academic year like 2026/2027".to_string();
        let (a, b) = raw.trim().split_once('/').ok_or_else(err)?;
        let (a, b): (i32, i32) = (a.parse().map_err(|_| err())?, b.parse().map_err(|_| err())?);
        if !(2000..=9998).contains(&a) || b != a + 1 {
            return Err(err());
        }
        Ok(AcademicYear { start: a })
    }

    pub fn next(self) -> Self {
        AcademicYear { start: self.start + 1 }
    }
}

impl fmt::Display for AcademicYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.start, self.start + 1)
    }
}

impl Serialize for AcademicYear {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AcademicYear {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        AcademicYear::parse(&s).map_err(serde::de::Error::custom)
    }
}

pub const MAX_GRADE: u8 = 11;

/// A graded class's letter(s), `А` or `ИТ`: at most this many.
pub const MAX_LETTER: usize = 3;

/// An extra class's free name, in characters.
pub const MAX_CLASS_NAME: usize = 100;

/// An academic year as written, `2026/2027`.
pub const YEAR_LEN: usize = 9;

/// What a class is called: a grade (1-11) with a letter (`5А`), or a free name for extra
/// classes ("Робототехника").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassName {
    Graded { grade: u8, letter: String },
    Free(String),
}

impl ClassName {
    /// From the request's `grade`, `letter` and `name`: a grade makes a graded class (the
    /// letter is optional, `name` must be absent); without a grade, `name` is required.
    pub fn parse(grade: Option<i64>, letter: Option<&str>, name: Option<&str>) -> Result<Self, (&'static str, String)> {
        match grade {
            Some(g) => {
                if !(1..=MAX_GRADE as i64).contains(&g) {
                    return Err(("grade", format!("must be from 1 to {MAX_GRADE}")));
                }
                if name.is_some_and(|n| !n.trim().is_empty()) {
                    return Err(("name", "give either a grade and a letter, or a name".into()));
                }
                let letter = letter.map(str::trim).unwrap_or("").to_uppercase();
                let ok = letter.chars().count() <= MAX_LETTER && letter.chars().all(|c| c.is_alphabetic());
                if !ok {
                    return Err(("letter", "must be up to 3 letters, like А".into()));
                }
                Ok(ClassName::Graded { grade: g as u8, letter })
            }
            None => {
                if letter.is_some_and(|l| !l.trim().is_empty()) {
                    return Err(("grade", "a letter needs a grade".into()));
                }
                match name.map(|n| text::required(n, MAX_CLASS_NAME)) {
                    Some(Ok(n)) => Ok(ClassName::Free(n)),
                    Some(Err(e)) => Err(("name", e)),
                    None => Err(("grade", "give a grade (1-11) and a letter, or a name".into())),
                }
            }
        }
    }

    /// A class's title as school journals write it (a roster import's `classes.csv`):
    /// a grade and a letter however they are joined (`5А`, `5-А`, `5 "А"`, `5 «а»`,
    /// `10Б`, `5`), else the title as a free name; `None` for an empty title.
    pub fn from_title(title: &str) -> Option<ClassName> {
        let title = title.trim();
        let digits: String = title.chars().take_while(char::is_ascii_digit).collect();
        let rest: String = title[digits.len()..]
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '–' | '"' | '\'' | '«' | '»' | '“' | '”'))
            .collect();
        if let Ok(grade) = digits.parse::<i64>() {
            if let Ok(name) = ClassName::parse(Some(grade), Some(&rest), None) {
                return Some(name);
            }
        }
        ClassName::parse(None, None, Some(title)).ok()
    }

    pub fn grade(&self) -> Option<u8> {
        match self {
            ClassName::Graded { grade, .. } => Some(*grade),
            ClassName::Free(_) => None,
        }
    }

    pub fn letter(&self) -> Option<&str> {
        match self {
            ClassName::Graded { letter, .. } if !letter.is_empty() => Some(letter),
            _ => None,
        }
    }

    /// The next year's name: `5А` becomes `6А`; `None` for an 11th grade (it graduates)
    /// and for free-named classes (not promoted automatically).
    pub fn promoted(&self) -> Option<ClassName> {
        match self {
            ClassName::Graded { grade, letter } if *grade < MAX_GRADE => {
                Some(ClassName::Graded { grade: grade + 1, letter: letter.clone() })
            }
            _ => None,
        }
    }

    /// The name as shown and as kept unique within a year (case-insensitive).
    pub fn display(&self) -> String {
        match self {
            ClassName::Graded { grade, letter } => format!("{grade}{letter}"),
            ClassName::Free(n) => n.clone(),
        }
    }

    pub fn unique_key(&self) -> String {
        self.display().to_lowercase()
    }

    /// Sort order in lists: graded classes by grade and letter, then free names.
    pub fn sort_key(&self) -> (u8, String) {
        match self {
            ClassName::Graded { grade, letter } => (*grade, letter.clone()),
            ClassName::Free(n) => (u8::MAX, n.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_titles_become_grades_and_letters() {
        let graded = |g: u8, l: &str| Some(ClassName::Graded { grade: g, letter: l.to_string() });
        for title in ["5А", "5-А", "5 \"А\"", "5 «а»", " 5 – а ", "5'А'"] {
            assert_eq!(ClassName::from_title(title), graded(5, "А"), "{title}");
        }
        assert_eq!(ClassName::from_title("10Б"), graded(10, "Б"));
        assert_eq!(ClassName::from_title("11"), graded(11, ""));
        assert_eq!(ClassName::from_title("Робототехника"), Some(ClassName::Free("Робототехника".into())));
        // Not a grade of a school: kept as written.
        assert_eq!(ClassName::from_title("12А"), Some(ClassName::Free("12А".into())));
        assert_eq!(ClassName::from_title("5 класс (профиль)"), Some(ClassName::Free("5 класс (профиль)".into())));
        assert_eq!(ClassName::from_title("  "), None);
    }
    use time::macros::date;

    #[test]
    fn academic_years_run_september_to_august() {
        assert_eq!(AcademicYear::containing(date!(2026 - 09 - 01)).to_string(), "2026/2027");
        assert_eq!(AcademicYear::containing(date!(2027 - 08 - 31)).to_string(), "2026/2027");
        assert_eq!(AcademicYear::containing(date!(2026 - 08 - 31)).to_string(), "2025/2026");
        assert_eq!(AcademicYear::parse("2025/2026").unwrap().next().to_string(), "2026/2027");
        for bad in ["2025/2027", "2025", "2025-2026", "abcd/efgh", "1999/2000"] {
            assert!(AcademicYear::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn class_names() {
        let c = ClassName::parse(Some(5), Some("а"), None).unwrap();
        assert_eq!(c.display(), "5А");
        assert_eq!(c.promoted().unwrap().display(), "6А");
        assert_eq!(ClassName::parse(Some(11), Some("Б"), None).unwrap().promoted(), None);
        assert_eq!(ClassName::parse(Some(1), None, None).unwrap().display(), "1");
        assert_eq!(ClassName::parse(None, None, Some(" Робототехника ")).unwrap().display(), "Робототехника");
        assert_eq!(ClassName::parse(Some(12), Some("А"), None).unwrap_err().0, "grade");
        assert_eq!(ClassName::parse(Some(0), Some("А"), None).unwrap_err().0, "grade");
        assert_eq!(ClassName::parse(Some(5), Some("5"), None).unwrap_err().0, "letter");
        assert_eq!(ClassName::parse(None, Some("А"), None).unwrap_err().0, "grade");
        assert_eq!(ClassName::parse(None, None, None).unwrap_err().0, "grade");
        assert_eq!(ClassName::parse(Some(5), Some("А"), Some("x")).unwrap_err().0, "name");
        assert!(
            ClassName::parse(Some(5), Some("А"), None).unwrap().sort_key()
                < ClassName::parse(Some(10), Some("А"), None).unwrap().sort_key()
        );
    }
}
