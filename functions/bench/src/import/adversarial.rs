//! The adversarial uploads of the import benchmark, each generated as a stream to a file
//! and imported in a child process like the clean journal: 20 M blank lines, a 300 MB
//! quoted field, 5 M rows of `,,,` (each zipped), and a zip of 2 M empty entries; each
//! one's outcome is checked (rows refused with their lines, or the upload refused) and
//! its peak memory shown beside the clean file's.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use kabinet::domain::text::thousands;

use super::journal::{TempPath, MODIFIED};
use super::{Imported, Row};
use crate::harness::{table, Measured};

/// What an adversarial upload is, and what its import must come to.
pub(super) struct Adversarial {
    pub(super) name: &'static str,
    pub(super) file_name: &'static str,
    pub(super) path: TempPath,
    pub(super) upload_bytes: u64,
    pub(super) unpacked_bytes: u64,
    pub(super) took: Duration,
    expect: Expect,
}

enum Expect {
    /// Done, with these users applied and one row refused: on this line, for this reason.
    Done { users: u64, refused_line: u64, reason: &'static str },
    /// Failed, the upload refused for this reason.
    Failed { reason: &'static str },
}

impl Adversarial {
    /// Whether the import came to what the upload must come to.
    pub(super) fn check(&self, run: &Imported) -> Result<(), String> {
        match self.expect {
            Expect::Done { users, refused_line, reason } => {
                let refused = run
                    .errors
                    .iter()
                    .any(|e| e.file == "users.csv" && e.line == refused_line && e.message.contains(reason));
                if run.status != "done" || run.counts.users != users || run.counts.errors != 1 || !refused {
                    return Err(format!(
                        "expected done with {users} users and line {refused_line} refused ({reason}): {} with {} \
                         users, {} refused: {:?}",
                        run.status, run.counts.users, run.counts.errors, run.errors
                    ));
                }
                Ok(())
            }
            Expect::Failed { reason } => match &run.failure {
                Some(why) if run.status == "failed" && why.contains(reason) => Ok(()),
                _ => Err(format!("expected failed ({reason}): {} ({:?})", run.status, run.failure)),
            },
        }
    }
}

/// How an import ended, in a few words.
pub(super) fn outcome(run: &Imported) -> String {
    match (run.status.as_str(), &run.failure) {
        ("failed", Some(why)) => format!("failed: {}", why.split(':').next().unwrap_or(why)),
        _ => {
            let mut out = format!("{}, users applied: {}", run.status, run.counts.users);
            for e in &run.errors {
                out.push_str(&format!("; {} line {} refused", e.file, thousands(e.line)));
            }
            out
        }
    }
}

/// Blank lines in users.csv (about 20 KB zipped).
const BLANK_LINES: u64 = 20_000_000;
/// The quoted field's length.
const LONG_FIELD: u64 = 300_000_000;
/// Rows of `,,,` (a spreadsheet's empty rows).
const EMPTY_ROWS: u64 = 5_000_000;
/// Entries of the zip of empty files.
const ZIP_ENTRIES: u64 = 2_000_000;

const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,\
givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\r\n";

type Make = fn() -> Result<Adversarial, String>;

pub(super) const ALL: [Make; 4] = [blank_lines, long_field, empty_rows, many_entries];

/// A row of users.csv.
fn person(id: &str, role: &str, given: &str) -> String {
    format!("{id},active,{MODIFIED},true,org-school-1,{role},{id},,{given},Иванов,,{id},,,,,,\r\n")
}

/// Writes `piece` `times` times, a buffer at a time; answers the bytes written.
fn repeat(out: &mut dyn Write, piece: &[u8], times: u64) -> io::Result<u64> {
    let per = (64 * 1024 / piece.len().max(1)).max(1);
    let buf = piece.repeat(per);
    let mut left = times;
    while left > 0 {
        let n = left.min(per as u64);
        out.write_all(&buf[..n as usize * piece.len()])?;
        left -= n;
    }
    Ok(times * piece.len() as u64)
}

fn write(out: &mut dyn Write, text: &str) -> io::Result<u64> {
    out.write_all(text.as_bytes()).map(|()| text.len() as u64)
}

/// An upload of one users.csv, its header and then what `body` writes as it generates it
/// (deflated as it goes).
fn users_csv(
    name: &'static str,
    file_name: &'static str,
    expect: Expect,
    body: impl FnOnce(&mut dyn Write) -> io::Result<u64>,
) -> Result<Adversarial, String> {
    let started = Instant::now();
    let path = TempPath::new(file_name.trim_end_matches(".zip"));
    let file = File::create(&path.0).map_err(|e| format!("{}: {e}", path.0.display()))?;
    let mut zip = zip::ZipWriter::new(BufWriter::with_capacity(1 << 16, file));
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("users.csv", opts).map_err(|e| format!("zip: {e}"))?;
    let unpacked_bytes =
        (|| Ok::<_, io::Error>(write(&mut zip, USERS_HEADER)? + body(&mut zip)?))().map_err(|e| e.to_string())?;
    let mut out = zip.finish().map_err(|e| format!("zip: {e}"))?;
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    let upload_bytes = std::fs::metadata(&path.0).map_err(|e| e.to_string())?.len();
    Ok(Adversarial { name, file_name, path, upload_bytes, unpacked_bytes, took: started.elapsed(), expect })
}

/// A teacher (line 2), 20 M blank lines, a row refused, a student.
fn blank_lines() -> Result<Adversarial, String> {
    let expect = Expect::Done { users: 2, refused_line: BLANK_LINES + 3, reason: "janitor" };
    users_csv("20 M blank lines", "blank-lines.zip", expect, |out| {
        Ok(write(out, &person("u1", "teacher", "Анна"))?
            + repeat(out, b"\n", BLANK_LINES)?
            + write(out, &person("x1", "janitor", "Иван"))?
            + write(out, &person("u2", "student", "Пётр"))?)
    })
}

/// A row whose given name is a quoted field of 300 MB (line 2), then a student.
fn long_field() -> Result<Adversarial, String> {
    let expect = Expect::Done { users: 1, refused_line: 2, reason: "longer than 1 MiB" };
    users_csv("a 300 MB quoted field", "long-field.zip", expect, |out| {
        Ok(write(out, &format!("x1,active,{MODIFIED},true,org-school-1,student,x1,,\""))?
            + repeat(out, b"a", LONG_FIELD)?
            + write(out, "\",Иванов,,x1,,,,,,\r\n")?
            + write(out, &person("u1", "student", "Пётр"))?)
    })
}

/// 5 M rows of `,,,`, a row refused, a student.
fn empty_rows() -> Result<Adversarial, String> {
    let expect = Expect::Done { users: 1, refused_line: EMPTY_ROWS + 2, reason: "janitor" };
    users_csv("5 M rows of ,,,", "empty-rows.zip", expect, |out| {
        Ok(repeat(out, b",,,\r\n", EMPTY_ROWS)?
            + write(out, &person("x1", "janitor", "Иван"))?
            + write(out, &person("u1", "student", "Пётр"))?)
    })
}

/// Entry `i`'s name: users.csv, then hex numbers.
fn entry_name(i: u64) -> String {
    if i == 0 {
        "users.csv".into()
    } else {
        format!("{i:x}")
    }
}

/// A zip of 2 M empty entries (users.csv first), written by hand a header at a time: its
/// local headers, then its central directory (the names made again), then zip64 end
/// records (more than 65,535 entries).
fn many_entries() -> Result<Adversarial, String> {
    let started = Instant::now();
    let path = TempPath::new("entries");
    entries_zip(&path.0, ZIP_ENTRIES)?;
    let upload_bytes = std::fs::metadata(&path.0).map_err(|e| e.to_string())?.len();
    let expect = Expect::Failed { reason: "2,000,000 files" };
    let name = "a zip of 2 M empty entries";
    Ok(Adversarial {
        name,
        file_name: "entries.zip",
        path,
        upload_bytes,
        unpacked_bytes: 0,
        took: started.elapsed(),
        expect,
    })
}

/// Writes a zip of `entries` empty entries to `path`.
fn entries_zip(path: &Path, entries: u64) -> Result<(), String> {
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    let io = |e: io::Error| e.to_string();
    // Version 1.0, no flags, stored, 1980-01-01, CRC and sizes 0.
    let fixed: [u8; 22] = [10, 0, 0, 0, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let mut offset = 0u64;
    for i in 0..entries {
        let name = entry_name(i);
        out.write_all(b"PK\x03\x04").map_err(io)?;
        out.write_all(&fixed).map_err(io)?;
        out.write_all(&(name.len() as u16).to_le_bytes()).map_err(io)?;
        out.write_all(&0u16.to_le_bytes()).map_err(io)?;
        out.write_all(name.as_bytes()).map_err(io)?;
        offset += 30 + name.len() as u64;
    }
    let directory = offset;
    let mut local = 0u64;
    for i in 0..entries {
        let name = entry_name(i);
        out.write_all(b"PK\x01\x02").map_err(io)?;
        out.write_all(&20u16.to_le_bytes()).map_err(io)?;
        out.write_all(&fixed).map_err(io)?;
        out.write_all(&(name.len() as u16).to_le_bytes()).map_err(io)?;
        // Extra field, comment, disk, internal and external attributes: none.
        out.write_all(&[0u8; 12]).map_err(io)?;
        out.write_all(&(local as u32).to_le_bytes()).map_err(io)?;
        out.write_all(name.as_bytes()).map_err(io)?;
        local += 30 + name.len() as u64;
        offset += 46 + name.len() as u64;
    }
    let (end64, size) = (offset, offset - directory);
    out.write_all(b"PK\x06\x06").map_err(io)?;
    out.write_all(&44u64.to_le_bytes()).map_err(io)?;
    out.write_all(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]).map_err(io)?;
    for v in [entries, entries, size, directory] {
        out.write_all(&v.to_le_bytes()).map_err(io)?;
    }
    out.write_all(b"PK\x06\x07").map_err(io)?;
    out.write_all(&0u32.to_le_bytes()).map_err(io)?;
    out.write_all(&end64.to_le_bytes()).map_err(io)?;
    out.write_all(&1u32.to_le_bytes()).map_err(io)?;
    out.write_all(b"PK\x05\x06").map_err(io)?;
    out.write_all(&[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).map_err(io)?;
    out.write_all(&(size.min(u64::from(u32::MAX)) as u32).to_le_bytes()).map_err(io)?;
    out.write_all(&(directory.min(u64::from(u32::MAX)) as u32).to_le_bytes()).map_err(io)?;
    out.write_all(&0u16.to_le_bytes()).map_err(io)?;
    out.flush().map_err(io)
}

/// The adversarial uploads' table, beside the clean file of the fewest users.
pub(super) fn report(inputs: &[(Adversarial, Measured<Imported>)], clean: &[Row]) {
    let Some(clean) = clean.iter().filter(|r| !r.again).min_by_key(|r| r.users) else { return };
    let clean_peak = format!("{:.1}", clean.m.peak_mb());
    let columns = format!(
        "<input | upload (MB) | unpacked (MB) | <outcome | import s | peak RSS (MB) | the clean file's ({} users) \
         peak RSS (MB)",
        clean.users
    );
    let first = vec![
        format!("a clean journal of {} users", clean.users),
        format!("{:.2}", clean.zip_bytes as f64 / 1e6),
        "–".into(),
        outcome(&clean.m.report),
        format!("{:.1}", clean.m.process.took_s),
        clean_peak.clone(),
        clean_peak.clone(),
    ];
    let others = inputs.iter().map(|(input, m)| {
        vec![
            input.name.to_string(),
            format!("{:.2}", input.upload_bytes as f64 / 1e6),
            format!("{:.1}", input.unpacked_bytes as f64 / 1e6),
            outcome(&m.report),
            format!("{:.1}", m.process.took_s),
            format!("{:.1}", m.peak_mb()),
            clean_peak.clone(),
        ]
    });
    let all: Vec<Vec<String>> = std::iter::once(first).chain(others).collect();
    table(&columns, &all, Vec::clone);
    println!(
        "\nEach adversarial upload was imported in a process of its own, as the clean file was, and checked: \
         the rows around the blank lines and empty rows applied with the refused row's line right, the long \
         field's row refused as that row's error and the next row applied, the zip of many entries refused from \
         its end record before its directory was read."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_of_many_entries_is_a_zip64_archive_the_zip_crate_reads() {
        let path = TempPath::new("entries-test");
        entries_zip(&path.0, 70_000).unwrap();
        let zip = zip::ZipArchive::new(File::open(&path.0).unwrap()).unwrap();
        assert_eq!(zip.len(), 70_000);
        assert_eq!(zip.name_for_index(0).unwrap().unwrap(), "users.csv");
        assert_eq!(zip.name_for_index(69_999).unwrap().unwrap(), format!("{:x}", 69_999));
    }
}
