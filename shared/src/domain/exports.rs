//! Exports (SPEC R9.3): an admin asks for the summary or the employees as CSV or XLSX; the
//! exporter builds the file from the table into the private exports bucket, and the
//! export then answers a short-lived download URL. An export is its own item: created
//! pending, made ready (or failed) once; it and its file go after [`KEPT`].

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ExportId, OrgId, Timestamp, UserId};

/// How long a download URL works.
pub const URL_LIFETIME: time::Duration = time::Duration::minutes(15);
/// How long an export and its file are kept (the bucket's lifecycle rule deletes the
/// file after 7 days; the item goes with it).
pub const KEPT: time::Duration = time::Duration::days(7);
/// How many exports one admin may have building at once.
pub const MAX_BUILDING: usize = 3;
/// How long an export may build: one still pending after this is shown failed, and its
/// place among the admin's [`MAX_BUILDING`] is free again.
pub const BUILD_DEADLINE: time::Duration = time::Duration::minutes(30);
/// How many times the exporter tries to build one export before it gives up.
pub const MAX_ATTEMPTS: u32 = 3;
/// Where exports are written in the exports bucket.
pub const EXPORTS_PREFIX: &str = "exports/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportKind {
    /// The organization in figures, with members active per day over 30 days.
    Summary,
    /// Teachers and staff with their activity, one per row.
    Employees,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Summary => "summary",
            ExportKind::Employees => "employees",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// UTF-8 with a BOM, for Excel in any locale.
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// What separates a CSV file's cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum Delimiter {
    /// Excel's list separator in Russian (and most European) locales.
    #[default]
    #[serde(rename = ";")]
    Semicolon,
    #[serde(rename = ",")]
    Comma,
}

impl Delimiter {
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Semicolon => b';',
            Delimiter::Comma => b',',
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Pending,
    Ready,
    Failed,
}

/// An export as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub id: ExportId,
    pub org_id: OrgId,
    pub kind: ExportKind,
    pub format: ExportFormat,
    #[serde(default)]
    pub delimiter: Delimiter,
    pub status: ExportStatus,
    pub requested_by: UserId,
    pub requested_by_name: String,
    /// The file's name for the download (`kabinet-<school>-employees-2026-12-06.xlsx`).
    pub file_name: String,
    /// Which of the admin's building places it holds (0 to [`MAX_BUILDING`] - 1).
    pub slot: u32,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_at: Option<Timestamp>,
    /// Data rows written (the header not counted).
    #[serde(default)]
    pub rows: u64,
    /// The file's size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Why it failed, for the admin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Builds started so far.
    #[serde(default)]
    pub attempts: u32,
}

impl Export {
    /// A new export, pending, asked for now by an admin holding building place `slot`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        org: &OrgId,
        org_name: &str,
        kind: ExportKind,
        format: ExportFormat,
        delimiter: Delimiter,
        by: &UserId,
        by_name: &str,
        slot: u32,
        now: Timestamp,
    ) -> Export {
        Export {
            id: ExportId::new(),
            org_id: org.clone(),
            kind,
            format,
            delimiter,
            status: ExportStatus::Pending,
            requested_by: by.clone(),
            requested_by_name: by_name.to_string(),
            file_name: file_name(org_name, kind, format, now),
            slot,
            created_at: now,
            ready_at: None,
            rows: 0,
            size: 0,
            failure: None,
            attempts: 0,
        }
    }

    /// The object's key in the exports bucket (IDs only).
    pub fn object_key(&self) -> String {
        format!("{EXPORTS_PREFIX}{}/{}.{}", self.org_id, self.id, self.format.extension())
    }

    /// Its status as shown at `now`: one still pending past [`BUILD_DEADLINE`] has failed.
    pub fn status_at(&self, now: Timestamp) -> (ExportStatus, Option<String>) {
        match self.status {
            ExportStatus::Pending if self.created_at.plus(BUILD_DEADLINE) < now => {
                (ExportStatus::Failed, Some(TIMED_OUT.to_string()))
            }
            status => (status, self.failure.clone()),
        }
    }

    /// When it and its file leave.
    pub fn expires_at(&self) -> Timestamp {
        self.created_at.plus(KEPT)
    }
}

/// The reason shown for an export that never finished.
pub const TIMED_OUT: &str = "The export took too long to build; please request it again.";

/// `kabinet-<school>-<kind>-<day>.<ext>`: the school's short name (or name) with its
/// letters and digits kept, Cyrillic included, and anything else between them made `-`.
pub fn file_name(org_name: &str, kind: ExportKind, format: ExportFormat, at: Timestamp) -> String {
    let mut school = String::new();
    for c in org_name.chars() {
        if c.is_alphanumeric() {
            school.push(c);
        } else if !school.ends_with('-') && !school.is_empty() {
            school.push('-');
        }
    }
    let school: String = school.trim_end_matches('-').chars().take(60).collect();
    let school = school.trim_end_matches('-');
    let school = if school.is_empty() { String::new() } else { format!("{school}-") };
    format!("kabinet-{school}{}-{}.{}", kind.as_str(), at.day(), format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_says_what_it_is_and_keeps_cyrillic() {
        let at = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
        assert_eq!(
            file_name("Гимназия №5 «Росток»", ExportKind::Employees, ExportFormat::Xlsx, at),
            "kabinet-Гимназия-5-Росток-employees-2026-11-23.xlsx"
        );
        assert_eq!(file_name("  ", ExportKind::Summary, ExportFormat::Csv, at), "kabinet-summary-2026-11-23.csv");
        assert_eq!(
            file_name("School 12", ExportKind::Summary, ExportFormat::Csv, at),
            "kabinet-School-12-summary-2026-11-23.csv"
        );
    }

    #[test]
    fn an_export_pending_past_its_deadline_shows_failed() {
        let at = Timestamp::parse("2026-11-23T10:00:00Z").unwrap();
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let e = Export::new(
            &org,
            "Школа",
            ExportKind::Summary,
            ExportFormat::Csv,
            Delimiter::default(),
            &UserId::parse("u1").unwrap(),
            "Анна",
            0,
            at,
        );
        assert_eq!(e.status_at(at.plus(time::Duration::minutes(5))), (ExportStatus::Pending, None));
        let (status, why) = e.status_at(at.plus(BUILD_DEADLINE + time::Duration::seconds(1)));
        assert_eq!(status, ExportStatus::Failed);
        assert_eq!(why.as_deref(), Some(TIMED_OUT));
        assert_eq!(e.object_key(), format!("exports/k7m3xq9pza/{}.csv", e.id));
        assert_eq!(e.expires_at(), at.plus(time::Duration::days(7)));
    }

    #[test]
    fn delimiters_are_the_characters_themselves() {
        assert_eq!(serde_json::to_string(&Delimiter::Semicolon).unwrap(), "\";\"");
        assert_eq!(serde_json::from_str::<Delimiter>("\",\"").unwrap(), Delimiter::Comma);
        assert!(serde_json::from_str::<Delimiter>("\"|\"").is_err());
    }
}
