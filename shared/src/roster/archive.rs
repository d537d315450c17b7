//! What an admin uploads for a roster import: a zip of OneRoster CSV files (a journal's
//! export), or one CSV file on its own. Read from a file, entry by entry: nothing is held
//! in memory whole. An entry larger than [`MAX_ENTRY_BYTES`] once unpacked is refused (a
//! zip bomb stays a file error).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use super::{rows, FileError, RosterFile, Rows};

/// The most a file of the roster may take unpacked: 512 MiB (a district's users.csv of
/// 100,000 rows is about 20 MB).
pub const MAX_ENTRY_BYTES: u64 = 512 * 1024 * 1024;

pub const UPLOAD: &str = "the upload";

/// An opened upload.
pub enum Upload {
    /// A zip: the index of each roster file's entry.
    Zip(zip::ZipArchive<File>, BTreeMap<RosterFile, usize>),
    /// One CSV file, known by its name or its columns.
    Single(RosterFile, File),
}

fn refuse(reason: impl Into<String>) -> FileError {
    FileError { file: UPLOAD, reason: reason.into() }
}

/// Opens an upload; `name` is the file name the admin gave, if any.
pub fn open(mut file: File, name: Option<&str>) -> Result<Upload, FileError> {
    let mut magic = [0u8; 4];
    let n = file.read(&mut magic).map_err(|e| refuse(format!("cannot be read ({e})")))?;
    file.seek(SeekFrom::Start(0)).map_err(|e| refuse(format!("cannot be read ({e})")))?;
    if n == 4 && &magic == b"PK\x03\x04" {
        let zip =
            zip::ZipArchive::new(file).map_err(|e| refuse(format!("is not a zip archive that can be read ({e})")))?;
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
        return Ok(Upload::Zip(zip, found));
    }
    let kind = match name.and_then(RosterFile::named) {
        Some(f) => f,
        None => guess(&mut file)?,
    };
    Ok(Upload::Single(kind, file))
}

/// Which roster file a lone CSV is, by the columns of its header.
fn guess(file: &mut File) -> Result<RosterFile, FileError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(&mut *file);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| refuse(format!("is neither a zip archive nor a CSV file ({e})")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
        .collect();
    drop(reader);
    file.seek(SeekFrom::Start(0)).map_err(|e| refuse(format!("cannot be read ({e})")))?;
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
        match self {
            Upload::Zip(_, found) => found.keys().copied().collect(),
            Upload::Single(f, _) => vec![*f],
        }
    }

    /// The rows of one of its files; `None` when it does not hold that file.
    pub fn rows(&mut self, file: RosterFile) -> Option<Result<Rows<Box<dyn Read + Send + '_>>, FileError>> {
        match self {
            Upload::Zip(zip, found) => {
                let i = *found.get(&file)?;
                let entry = match zip.by_index(i) {
                    Ok(e) => e,
                    Err(e) => {
                        return Some(Err(FileError {
                            file: file.file_name(),
                            reason: format!("cannot be unpacked ({e})"),
                        }))
                    }
                };
                if entry.size() > MAX_ENTRY_BYTES {
                    let reason = format!("is larger than {} MiB unpacked", MAX_ENTRY_BYTES >> 20);
                    return Some(Err(FileError { file: file.file_name(), reason }));
                }
                // Sizes in a zip's directory can lie: reading stops at the limit all the same.
                let input: Box<dyn Read + Send + '_> = Box::new(entry.take(MAX_ENTRY_BYTES));
                Some(rows(file, input))
            }
            Upload::Single(f, input) if *f == file => {
                let input: Box<dyn Read + Send + '_> = Box::new(&*input);
                Some(rows(file, input))
            }
            Upload::Single(..) => None,
        }
    }
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
