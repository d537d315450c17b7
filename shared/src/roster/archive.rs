//! What an admin uploads for a roster import: a zip of OneRoster CSV files (a journal's
//! export), or one CSV file on its own. Read from a file, entry by entry: nothing is held
//! in memory whole. Opening it checks what can be checked before anything is applied: a
//! zip of more than [`MAX_ENTRIES`] entries is refused from its end record, before its
//! directory is read (and the directory is read within [`MAX_DIRECTORY_BYTES`]); then each
//! file the import applies is read through once, so that a file that is damaged, not
//! UTF-8 or larger than [`MAX_ENTRY_BYTES`] unpacked (a zip bomb) refuses the upload
//! before any of its rows applies.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::read::{self, Limits, Reader, Record};
use super::{rows_within, FileError, RosterFile, Rows, APPLIED};
use crate::domain::text::thousands;

/// The most a file of the roster may take unpacked: 512 MiB (a district's users.csv of
/// 100,000 rows is about 20 MB).
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;

/// The most entries a zip may have: a journal's export has a handful.
pub const MAX_ENTRIES: u64 = 1000;

/// The most a zip's directory may take to read: 4 MiB (1,000 entries of a journal's
/// export take about 100 KB).
pub const MAX_DIRECTORY_BYTES: u64 = 4 * 1024 * 1024;

pub const UPLOAD: &str = "the upload";

/// An opened upload.
pub struct Upload {
    kind: Kind,
    limits: Limits,
}

enum Kind {
    /// A zip: the index of each roster file's entry.
    Zip { zip: zip::ZipArchive<Metered>, found: BTreeMap<RosterFile, usize> },
    /// One CSV file, known by its name or its columns.
    Single { file: RosterFile, input: File },
}

fn refuse(reason: impl Into<String>) -> FileError {
    FileError::unreadable(UPLOAD, reason)
}

fn cannot_read(e: io::Error) -> FileError {
    refuse(format!("cannot be read ({e})"))
}

/// Opens an upload; `name` is the file name the admin gave, if any.
pub fn open(file: File, name: Option<&str>) -> Result<Upload, FileError> {
    open_within(file, name, Limits::DEFAULT)
}

pub(crate) fn open_within(mut file: File, name: Option<&str>, limits: Limits) -> Result<Upload, FileError> {
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < magic.len() {
        match file.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot_read(e)),
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(cannot_read)?;
    let kind = if n == 4 && &magic == b"PK\x03\x04" { zip(file)? } else { single(file, name, limits)? };
    let mut upload = Upload { kind, limits };
    upload.check()?;
    Ok(upload)
}

fn too_many(entries: u64) -> FileError {
    refuse(format!(
        "is a zip of {} files: a journal's export has a few, and a zip of more than {} is not read. \
         Zip only the OneRoster files (users.csv, classes.csv, enrollments.csv, academicSessions.csv)",
        thousands(entries),
        thousands(MAX_ENTRIES)
    ))
}

fn zip(mut file: File) -> Result<Kind, FileError> {
    let entries = declared_entries(&mut file).map_err(cannot_read)?;
    if entries > MAX_ENTRIES {
        return Err(too_many(entries));
    }
    let budget = Arc::new(AtomicU64::new(MAX_DIRECTORY_BYTES));
    let zip = match zip::ZipArchive::new(Metered { file, budget: budget.clone() }) {
        Ok(zip) => zip,
        Err(_) if budget.load(Ordering::Relaxed) == 0 => {
            return Err(refuse(format!(
                "is a zip whose directory takes more than {} MiB: zip only the OneRoster files",
                MAX_DIRECTORY_BYTES >> 20
            )))
        }
        Err(e) => return Err(refuse(format!("is not a zip archive that can be read ({e})"))),
    };
    budget.store(UNMETERED, Ordering::Relaxed);
    if zip.len() as u64 > MAX_ENTRIES {
        return Err(too_many(zip.len() as u64));
    }
    let mut found = BTreeMap::new();
    for i in 0..zip.len() {
        let Some(Ok(entry)) = zip.name_for_index(i) else { continue };
        if entry.ends_with('/') || entry.starts_with("__MACOSX") {
            continue;
        }
        if let Some(f) = RosterFile::named(&entry) {
            if found.insert(f, i).is_some() {
                return Err(refuse(format!("holds {} twice", f.file_name())));
            }
        }
    }
    if found.is_empty() {
        return Err(refuse("holds no OneRoster file (users.csv, classes.csv, enrollments.csv, ...)"));
    }
    Ok(Kind::Zip { zip, found })
}

fn single(mut file: File, name: Option<&str>, limits: Limits) -> Result<Kind, FileError> {
    let mut start = [0u8; 4096];
    let n = file.read(&mut start).map_err(cannot_read)?;
    // A workbook or a UTF-16 text has zero bytes; a CSV file has none.
    if start[..n].contains(&0) {
        return Err(refuse(
            "is neither a zip archive nor a CSV file in UTF-8 (an Excel workbook, or Unicode text?): \
             save the journal's tables as \"CSV UTF-8\", or upload its zip",
        ));
    }
    file.seek(SeekFrom::Start(0)).map_err(cannot_read)?;
    let kind = match name.and_then(RosterFile::named) {
        Some(f) => f,
        None => guess(&mut file, limits)?,
    };
    Ok(Kind::Single { file: kind, input: file })
}

/// Which roster file a lone CSV is, by the columns of its header.
fn guess(file: &mut File, limits: Limits) -> Result<RosterFile, FileError> {
    let mut reader = Reader::new(&*file, limits);
    let header: Vec<String> = match reader.next_record() {
        Ok(Some(Record::Read(_))) => {
            reader.fields().map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase()).collect()
        }
        Ok(Some(Record::TooLong { .. })) | Ok(None) => Vec::new(),
        Err(read::Unreadable::NotUtf8(line)) => return Err(refuse(read::not_utf8(line))),
        Err(read::Unreadable::Io(e)) => return Err(cannot_read(e)),
    };
    drop(reader);
    file.seek(SeekFrom::Start(0)).map_err(cannot_read)?;
    let has = |c: &str| header.iter().any(|h| h == c);
    Ok(if has("usersourcedid") && has("classsourcedid") {
        RosterFile::Enrollments
    } else if has("givenname") && has("familyname") {
        RosterFile::Users
    } else if has("classtype") {
        RosterFile::Classes
    } else if has("startdate") && has("enddate") {
        RosterFile::AcademicSessions
    } else {
        return Err(refuse(
            "is a CSV file that is not one of OneRoster's: name it users.csv, classes.csv, enrollments.csv or academicSessions.csv",
        ));
    })
}

impl Upload {
    /// The roster files it holds.
    pub fn files(&self) -> Vec<RosterFile> {
        match &self.kind {
            Kind::Zip { found, .. } => found.keys().copied().collect(),
            Kind::Single { file, .. } => vec![*file],
        }
    }

    /// Reads each file the import applies through once: one that cannot be read refuses
    /// the upload before anything is applied. A file missing a column is left for the
    /// import to list.
    fn check(&mut self) -> Result<(), FileError> {
        for file in APPLIED {
            match self.rows(file) {
                None | Some(Err(FileError { unreadable: false, .. })) => {}
                Some(Err(e)) => return Err(e),
                Some(Ok(rows)) => rows.read_through()?,
            }
        }
        Ok(())
    }

    /// The rows of one of its files; `None` when it does not hold that file.
    pub fn rows(&mut self, file: RosterFile) -> Option<Result<Rows<Box<dyn Read + Send + '_>>, FileError>> {
        let limits = self.limits;
        let name = file.file_name();
        match &mut self.kind {
            Kind::Zip { zip, found } => {
                let i = *found.get(&file)?;
                let entry = match zip.by_index(i) {
                    Ok(e) => e,
                    Err(e) => return Some(Err(FileError::unreadable(name, format!("cannot be unpacked ({e})")))),
                };
                if entry.size() > MAX_ENTRY_BYTES {
                    return Some(Err(FileError::unreadable(name, too_large())));
                }
                // Sizes in a zip's directory can lie: reading fails past the limit all the same.
                let input: Box<dyn Read + Send + '_> = Box::new(Capped { inner: entry, left: MAX_ENTRY_BYTES });
                Some(rows_within(file, input, limits))
            }
            Kind::Single { file: f, input } if *f == file => {
                if let Err(e) = input.seek(SeekFrom::Start(0)) {
                    return Some(Err(FileError::unreadable(name, format!("cannot be read ({e})"))));
                }
                let input: Box<dyn Read + Send + '_> = Box::new(Capped { inner: &*input, left: MAX_ENTRY_BYTES });
                Some(rows_within(file, input, limits))
            }
            Kind::Single { .. } => None,
        }
    }
}

fn too_large() -> String {
    format!("is larger than {} MiB unpacked", MAX_ENTRY_BYTES >> 20)
}

/// A file's bytes, failing past `left`.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, too_large()));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

const UNMETERED: u64 = u64::MAX;

/// The upload's file, read within a budget while the zip's directory is read (the zip
/// crate reads all of it, and keeps what it read), without one after.
struct Metered {
    file: File,
    budget: Arc<AtomicU64>,
}

impl Read for Metered {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.load(Ordering::Relaxed);
        if left == UNMETERED {
            return self.file.read(buf);
        }
        if left == 0 {
            return Err(io::Error::other("the zip's directory is too large"));
        }
        let room = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.file.read(&mut buf[..room])?;
        self.budget.store(left - n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl Seek for Metered {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

const EOCD: &[u8; 4] = b"PK\x05\x06";
const EOCD_LEN: usize = 22;
const LOCATOR: &[u8; 4] = b"PK\x06\x07";
const LOCATOR_LEN: u64 = 20;
const EOCD64: &[u8; 4] = b"PK\x06\x06";

fn u16_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 2).map_or(0, |s| u64::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

fn read_at(file: &mut File, at: u64, buf: &mut [u8]) -> io::Result<usize> {
    file.seek(SeekFrom::Start(at))?;
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The most entries a zip's end records declare: of every end of central directory
/// record in its last 64 KiB (the zip crate falls back from one to an earlier one), and
/// of every zip64 end record one of them locates. Only these records are read, never the
/// directory.
pub(crate) fn declared_entries(file: &mut File) -> io::Result<u64> {
    let len = file.seek(SeekFrom::End(0))?;
    let tail_start = len.saturating_sub((EOCD_LEN + (1 << 16) + 256) as u64);
    let mut tail = vec![0u8; (len - tail_start) as usize];
    let got = read_at(file, tail_start, &mut tail)?;
    tail.truncate(got);
    let mut most = 0u64;
    // Where zip64 end records must end (at their locator), and where to look for them.
    let mut locators: Vec<u64> = Vec::new();
    let mut from = u64::MAX;
    for i in (0..tail.len().saturating_sub(EOCD_LEN - 1)).rev() {
        if &tail[i..i + 4] != EOCD {
            continue;
        }
        let at = tail_start + i as u64;
        let mut locator = [0u8; LOCATOR_LEN as usize];
        if at >= LOCATOR_LEN
            && read_at(file, at - LOCATOR_LEN, &mut locator)? == locator.len()
            && &locator[..4] == LOCATOR
        {
            // A record with a zip64 locator is read by its zip64 record only (its own
            // counts say 65,535 then).
            locators.push(at - LOCATOR_LEN);
            from = from.min(u64_at(&locator, 8));
        } else {
            most = most.max(u16_at(&tail, i + 8)).max(u16_at(&tail, i + 10));
        }
    }
    if let (Some(&to), true) = (locators.iter().max(), from < u64::MAX) {
        most = most.max(zip64_entries(file, from, to, &locators)?);
    }
    Ok(most)
}

/// The most entries of the zip64 end records found in `from..to` that end at one of
/// `locators` (as a record must), read a buffer at a time.
fn zip64_entries(file: &mut File, from: u64, to: u64, locators: &[u64]) -> io::Result<u64> {
    const CHUNK: usize = 64 * 1024;
    // A record's signature, size and counts: 40 bytes.
    const HEAD: usize = 40;
    let mut buf = vec![0u8; CHUNK + HEAD];
    let mut most = 0u64;
    let mut at = from;
    while at < to {
        let n = read_at(file, at, &mut buf)?;
        if n < 4 {
            break;
        }
        let starts = CHUNK.min(n - 3).min((to - at) as usize);
        for i in 0..starts {
            if &buf[i..i + 4] != EOCD64 {
                continue;
            }
            let record_end = (at + i as u64).checked_add(12).and_then(|e| e.checked_add(u64_at(&buf, i + 4)));
            if record_end.is_some_and(|e| locators.contains(&e)) {
                most = most.max(u64_at(&buf, i + 24)).max(u64_at(&buf, i + 32));
            }
        }
        at += CHUNK as u64;
    }
    Ok(most)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::roster::Row;

    fn zip_of(entries: &[(&str, &str)]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        {
            let mut zip = zip::ZipWriter::new(&mut file);
            let opts = zip::write::SimpleFileOptions::default();
            for (name, text) in entries {
                zip.start_file(*name, opts).unwrap();
                zip.write_all(text.as_bytes()).unwrap();
            }
            zip.finish().unwrap();
        }
        file.seek(SeekFrom::Start(0)).unwrap();
        file
    }

    fn csv_file(text: &str) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        file
    }

    const USERS: &str = "sourcedId,role,givenName,familyName\r\nu1,teacher,Анна,Иванова\r\n";

    #[test]
    fn a_journals_zip_is_read_file_by_file() {
        let file = zip_of(&[
            ("export/", ""),
            ("export/users.csv", USERS),
            ("export/classes.csv", "sourcedId,title,classType\nc1,5А,homeroom\n"),
            ("export/demographics.csv", "sourcedId\nu1\n"),
            ("__MACOSX/export/._users.csv", "junk"),
        ]);
        let mut upload = open(file, Some("roster.zip")).unwrap();
        assert_eq!(upload.files(), [RosterFile::Classes, RosterFile::Users]);
        let users: Vec<_> = upload.rows(RosterFile::Users).unwrap().unwrap().collect();
        assert!(matches!(&users[..], [Ok(Row::User(u))] if u.given_name == "Анна"));
        assert!(upload.rows(RosterFile::Enrollments).is_none());
        assert_eq!(upload.rows(RosterFile::Classes).unwrap().unwrap().count(), 1);
    }

    #[test]
    fn a_lone_csv_is_known_by_its_name_or_its_columns() {
        let mut upload = open(csv_file(USERS), None).unwrap();
        assert_eq!(upload.files(), [RosterFile::Users]);
        assert_eq!(upload.rows(RosterFile::Users).unwrap().unwrap().count(), 1);
        let enrollments = "sourcedId,classSourcedId,userSourcedId,role\ne1,c1,u1,teacher\n";
        assert_eq!(open(csv_file(enrollments), None).unwrap().files(), [RosterFile::Enrollments]);
        assert_eq!(open(csv_file(USERS), Some("users.csv")).unwrap().files(), [RosterFile::Users]);
        let err = open(csv_file("a,b\n1,2\n"), Some("список.csv")).err().unwrap();
        assert!(err.reason.contains("users.csv"), "{}", err.reason);
    }

    /// A zip of users.csv and `n - 1` empty entries.
    fn zip_of_many(n: usize) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default();
            zip.start_file("users.csv", opts).unwrap();
            zip.write_all(USERS.as_bytes()).unwrap();
            for i in 1..n {
                zip.start_file(format!("{i:x}"), opts).unwrap();
            }
            zip.finish().unwrap();
        }
        out.into_inner()
    }

    /// The same zip ended by zip64 end records declaring `entries`.
    fn as_zip64(zip: &[u8], entries: u64) -> Vec<u8> {
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], EOCD);
        let cd_size = u64::from(u32::from_le_bytes(zip[end + 12..end + 16].try_into().unwrap()));
        let cd_offset = u64::from(u32::from_le_bytes(zip[end + 16..end + 20].try_into().unwrap()));
        let mut out = zip[..end].to_vec();
        out.extend_from_slice(EOCD64);
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for v in [entries, entries, cd_size, cd_offset] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(LOCATOR);
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(end as u64).to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(EOCD);
        out.extend_from_slice(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
        out.extend_from_slice(&(cd_size as u32).to_le_bytes());
        out.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0]);
        out
    }

    fn file_of(bytes: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        file
    }

    #[test]
    fn a_zip_of_over_1000_entries_is_refused_from_its_end_record() {
        let ok = zip_of_many(1000);
        assert_eq!(open(file_of(&ok), None).unwrap().files(), [RosterFile::Users]);
        let many = zip_of_many(1001);
        assert_eq!(declared_entries(&mut file_of(&many)).unwrap(), 1001);
        let err = open(file_of(&many), None).err().unwrap();
        assert!(err.unreadable && err.file == UPLOAD, "{err:?}");
        assert!(err.reason.contains("1,001 files") && err.reason.contains("more than 1,000"), "{}", err.reason);
        // Zip64 end records: the count they declare is the one checked.
        let zip64 = as_zip64(&ok, 1000);
        assert_eq!(declared_entries(&mut file_of(&zip64)).unwrap(), 1000);
        assert_eq!(open(file_of(&zip64), None).unwrap().files(), [RosterFile::Users]);
        let lying = as_zip64(&ok, 1001);
        let err = open(file_of(&lying), None).err().unwrap();
        assert!(err.reason.contains("1,001 files"), "{}", err.reason);
        let small = as_zip64(&zip_of_many(3), 3);
        assert_eq!(open(file_of(&small), None).unwrap().files(), [RosterFile::Users]);
        let many64 = as_zip64(&zip_of_many(3), 2_000_000);
        assert_eq!(declared_entries(&mut file_of(&many64)).unwrap(), 2_000_000);
        assert!(open(file_of(&many64), None).err().unwrap().reason.contains("2,000,000 files"));
    }

    #[test]
    fn a_zip_whose_directory_is_too_large_is_refused() {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let opts = zip::write::SimpleFileOptions::default();
            zip.start_file("users.csv", opts).unwrap();
            zip.write_all(USERS.as_bytes()).unwrap();
            for i in 0..80 {
                zip.start_file(format!("{i:02}{}", "x".repeat(60_000)), opts).unwrap();
            }
            zip.finish().unwrap();
        }
        let err = open(file_of(&out.into_inner()), None).err().unwrap();
        assert!(err.reason.contains("directory takes more than 4 MiB"), "{}", err.reason);
    }

    #[test]
    fn a_file_damaged_or_not_in_utf8_refuses_the_upload_before_anything_applies() {
        let classes = "sourcedId,title,classType\nc1,5А,homeroom\n";
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        let zip = |users: &[u8]| {
            let mut out = std::io::Cursor::new(Vec::new());
            {
                let mut zip = zip::ZipWriter::new(&mut out);
                zip.start_file("classes.csv", stored).unwrap();
                zip.write_all(classes.as_bytes()).unwrap();
                zip.start_file("users.csv", stored).unwrap();
                zip.write_all(users).unwrap();
                zip.finish().unwrap();
            }
            out.into_inner()
        };
        let cp1251 = b"sourcedId,role,givenName,familyName\nu1,teacher,\xC0\xED\xED\xE0,\xC8\xE2\xE0\xED\xEE\xE2\xE0\n";
        let err = open(file_of(&zip(cp1251)), None).err().unwrap();
        assert!(err.unreadable && err.file == "users.csv", "{err:?}");
        assert!(err.reason.contains("UTF-8") && err.reason.contains("Windows-1251"), "{}", err.reason);
        // A byte changed after the zip was made: its checksum no longer matches.
        let mut damaged = zip(USERS.as_bytes());
        let at = damaged.windows(4).position(|w| w == &"Анна".as_bytes()[..4]).unwrap();
        damaged[at + 1] ^= 1;
        let err = open(file_of(&damaged), None).err().unwrap();
        assert!(err.unreadable && err.file == "users.csv", "{err:?}");
        assert!(err.reason.contains("cannot be read to its end") && err.reason.contains("damaged"), "{}", err.reason);
        // A lone CSV in Windows-1251, and a file that is not text.
        let err = open(file_of(cp1251), Some("users.csv")).err().unwrap();
        assert!(err.unreadable && err.reason.contains("Windows-1251"), "{err:?}");
        let err = open(file_of(cp1251), None).err().unwrap();
        assert!(err.unreadable && err.reason.contains("Windows-1251"), "{err:?}");
        for name in [None, Some("users.csv")] {
            let err = open(file_of(b"\xD0\xCF\x11\xE0\0\0\0"), name).err().unwrap();
            assert!(err.reason.contains("neither a zip archive nor a CSV file"), "{err:?}");
        }
        // Past its size a file stops being read, and says so.
        let capped = Capped { inner: &b"abcdef"[..], left: 3 };
        let err = crate::roster::rows(RosterFile::Users, capped).err().unwrap();
        assert_eq!(err.reason, "is larger than 512 MiB unpacked");
    }

    #[test]
    fn what_is_not_a_roster_is_refused_with_a_reason() {
        assert!(open(zip_of(&[("readme.txt", "hi")]), None).err().unwrap().reason.contains("no OneRoster file"));
        let twice = zip_of(&[("a/users.csv", USERS), ("b/Users.csv", USERS)]);
        assert!(open(twice, None).err().unwrap().reason.contains("twice"));
        let mut broken = tempfile::tempfile().unwrap();
        broken.write_all(b"PK\x03\x04 not really a zip").unwrap();
        broken.seek(SeekFrom::Start(0)).unwrap();
        assert!(open(broken, None).err().unwrap().reason.contains("zip"));
    }
}
