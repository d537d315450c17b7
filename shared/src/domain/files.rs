//! Files shared in a group (SPEC R7.6): uploaded and downloaded directly to and from the
//! private files bucket through short-lived presigned URLs. A file is announced (name,
//! size, type), uploaded, then completed once the object is there with the announced size;
//! only completed files are listed and counted against the organization's quota.

use serde::{Deserialize, Serialize};

use super::{text, FileId, GroupId, OrgId, Timestamp, UserId};

/// The largest file: 50 MiB.
pub const MAX_FILE_SIZE: u64 = 50 * 1024 * 1024;
/// What an organization's files may take in all: 10 GiB.
pub const ORG_QUOTA: u64 = 10 * 1024 * 1024 * 1024;
/// The longest file name.
pub const MAX_FILE_NAME: usize = 255;
/// A file's `content_type`, in characters.
pub const MAX_CONTENT_TYPE: usize = 200;
/// How long a presigned upload or download URL works.
pub const URL_LIFETIME: time::Duration = time::Duration::minutes(15);
/// How long an announced upload waits to be completed before it is dropped.
pub const UPLOAD_LIFETIME: time::Duration = time::Duration::days(1);
/// How many uploads a person may have under way in an organization at once.
pub const MAX_OPEN_UPLOADS: u32 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    /// Announced; the object may not be there yet.
    Uploading,
    /// Completed: the object is there with the announced size.
    Ready,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupFile {
    pub id: FileId,
    pub org_id: OrgId,
    pub group_id: GroupId,
    /// As the person named it (shown and used for the download, never in the S3 key).
    pub name: String,
    pub size: u64,
    pub content_type: String,
    pub uploaded_by: UserId,
    pub uploaded_by_name: String,
    pub created_at: Timestamp,
    pub status: FileStatus,
    /// An upload whose bytes (and a place among its uploader's open uploads) were reserved
    /// when it was announced, until it is completed, deleted or expires. (Uploads announced
    /// before reservations were kept count only once completed.)
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reserved: bool,
}

impl GroupFile {
    /// The object's key in the files bucket: IDs only, under [`UPLOADS_PREFIX`] while it
    /// is an upload, [`FILES_PREFIX`] once ready.
    pub fn object_key(&self) -> String {
        object_key(self.status, &self.org_id, &self.group_id, &self.id)
    }

    /// The `Content-Disposition` of its download: an attachment under its own name (RFC
    /// 6266), with an ASCII fallback for old clients and the UTF-8 name (RFC 5987).
    pub fn content_disposition(&self) -> String {
        content_disposition(&self.name)
    }
}

/// Where uploads land: the bucket's lifecycle rule expires what is here after a day, so
/// an upload never completed goes by itself. A completed upload is copied to
/// [`FILES_PREFIX`]: no upload URL ever points at a ready file's object.
pub const UPLOADS_PREFIX: &str = "uploads/";
/// Where ready files are.
pub const FILES_PREFIX: &str = "files/";

pub fn object_key(status: FileStatus, org: &OrgId, group: &GroupId, file: &FileId) -> String {
    let prefix = match status {
        FileStatus::Uploading => UPLOADS_PREFIX,
        FileStatus::Ready => FILES_PREFIX,
    };
    format!("{prefix}{org}/{group}/{file}")
}

/// `attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded UTF-8>`.
pub fn content_disposition(name: &str) -> String {
    let fallback: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    let mut encoded = String::new();
    for byte in name.as_bytes() {
        // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(byte) {
            encoded.push(*byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// An announced file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileAnnouncement {
    pub name: String,
    pub size: u64,
    pub content_type: String,
}

/// Why a file cannot be announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRefusal {
    /// Fields that are not right, each with why.
    Fields(Vec<(String, String)>),
    /// Larger than [`MAX_FILE_SIZE`].
    TooLarge,
}

impl FileAnnouncement {
    pub fn parse(name: &str, size: i64, content_type: &str) -> Result<Self, FileRefusal> {
        let mut errors = Vec::new();
        let name = text::required(name, MAX_FILE_NAME)
            .and_then(|n| match n.chars().any(is_bidi_control) {
                true => Err("must not hold text-direction controls (they disguise a file's type)".into()),
                false => Ok(n),
            })
            .map_err(|e| errors.push(("name".into(), e)))
            .ok();
        let content_type = media_type(content_type).map_err(|e| errors.push(("content_type".into(), e))).ok();
        if size < 1 {
            errors.push(("size".into(), "must be at least 1 byte".into()));
        }
        match (name, content_type) {
            (Some(name), Some(content_type)) if errors.is_empty() => {
                let size = size as u64;
                if size > MAX_FILE_SIZE {
                    return Err(FileRefusal::TooLarge);
                }
                Ok(FileAnnouncement { name, size, content_type })
            }
            _ => Err(FileRefusal::Fields(errors)),
        }
    }
}

/// The invisible characters that reorder text (`invoice\u{202E}fdp.exe` shows as
/// `invoiceexe.pdf`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A media type `type/subtype` (RFC 6838 names, lower-cased; parameters such as a charset
/// are kept, checked as tokens).
fn media_type(raw: &str) -> Result<String, String> {
    const WRONG: &str = "must be a media type such as application/pdf";
    let raw = raw.trim().to_ascii_lowercase();
    if raw.is_empty() || raw.len() > MAX_CONTENT_TYPE {
        return Err(WRONG.into());
    }
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    let ok_essence = essence.split_once('/').is_some_and(|(t, s)| token(t) && token(s));
    let ok_params = parts
        .all(|p| p.trim().split_once('=').is_some_and(|(k, v)| token(k.trim()) && token(v.trim().trim_matches('"'))));
    if ok_essence && ok_params {
        Ok(raw)
    } else {
        Err(WRONG.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_keep_the_cyrillic_name() {
        let d = content_disposition("Расписание 7А.pdf");
        assert!(d.starts_with("attachment; filename=\"__________ 7_.pdf\"; filename*=UTF-8''"), "{d}");
        assert!(d.ends_with("%D0%A0%D0%B0%D1%81%D0%BF%D0%B8%D1%81%D0%B0%D0%BD%D0%B8%D0%B5%207%D0%90.pdf"), "{d}");
        // Quotes and backslashes cannot break out of the fallback.
        let d = content_disposition("a\"b\\c.txt");
        assert!(d.contains("filename=\"a_b_c.txt\"") && d.contains("a%22b%5Cc.txt"), "{d}");
    }

    #[test]
    fn announcements_are_checked() {
        let f = FileAnnouncement::parse(" план.docx ", 10, "Application/PDF").unwrap();
        assert_eq!((f.name.as_str(), f.size, f.content_type.as_str()), ("план.docx", 10, "application/pdf"));
        assert!(FileAnnouncement::parse("a.txt", 1, "text/plain; charset=utf-8").is_ok());
        assert_eq!(
            FileAnnouncement::parse("a.bin", MAX_FILE_SIZE as i64 + 1, "application/octet-stream"),
            Err(FileRefusal::TooLarge)
        );
        assert!(FileAnnouncement::parse("a.bin", MAX_FILE_SIZE as i64, "application/octet-stream").is_ok());
        let Err(FileRefusal::Fields(errs)) = FileAnnouncement::parse("", 0, "pdf") else { panic!() };
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, ["name", "content_type", "size"]);
        assert!(FileAnnouncement::parse("a\u{7}b", 1, "text/plain").is_err());
        assert!(FileAnnouncement::parse("a", 1, "text/plain\r\nx-evil: 1").is_err());
        assert!(FileAnnouncement::parse("invoice\u{202E}fdp.exe", 1, "application/pdf").is_err());
    }

    #[test]
    fn object_keys_hold_ids_only() {
        let org = OrgId::parse("k7m3xq9pza").unwrap();
        let (g, f) = (GroupId::new(), FileId::new());
        assert_eq!(object_key(FileStatus::Uploading, &org, &g, &f), format!("uploads/k7m3xq9pza/{g}/{f}"));
        assert_eq!(object_key(FileStatus::Ready, &org, &g, &f), format!("files/k7m3xq9pza/{g}/{f}"));
    }
}
