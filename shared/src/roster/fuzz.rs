//! The roster reader fed arbitrary bytes (proptest): CSV text made of the pieces that
//! trouble readers (quotes, line ends, long runs, bytes that are not UTF-8), zips of such
//! files, damaged zips and plain noise. Whatever it is fed, it never panics, and the
//! memory it allocates while reading stays within its bounds: the unit test binary counts
//! each thread's live heap (a counting allocator), and the reader runs with small limits
//! so that inputs far past them are quick to make.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Seek, SeekFrom, Write};

use proptest::prelude::*;

use super::archive::open_within;
use super::read::Limits;
use super::{rows_within, RosterFile, APPLIED};

/// The system allocator, counting each thread's live heap bytes and their peak.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // `try_with`: a thread being torn down frees memory after its locals are gone.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call goes to the system allocator as it came; only sizes are counted.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Runs `f`; answers what it gave and the most heap it held at once beyond what was live
/// before (on this thread).
pub(crate) fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(before));
    let out = f();
    let most = PEAK.with(Cell::get) - before;
    (out, most.max(0) as usize)
}

/// Small limits: a field of 64 bytes, a row of 256, 12 columns.
const SMALL: Limits = Limits { field: 64, row: 256, columns: 12 };

/// What reading may hold beyond the reader's buffers: the header's column names, one row
/// made of a record, a refusal's text.
const ROWS_SLACK: usize = 32 * 1024;

/// What a zip adds: its directory as the zip crate keeps it, an entry's inflater (32 KiB
/// window, its state and buffer), the end records read before.
const ZIP_SLACK: usize = 384 * 1024;

const HEADER: &str = "sourcedId,role,givenName,familyName,email,classSourcedId,userSourcedId,title,classType";
const ROW: &str = "u1,teacher,Анна,Иванова,a@school.test,c1,u1,5А,homeroom";

#[derive(Debug, Clone)]
enum Piece {
    Bytes(Vec<u8>),
    Run { byte: u8, count: usize },
}

fn piece() -> impl Strategy<Value = Piece> {
    let words: Vec<&'static [u8]> = vec![
        b"\n",
        b"\r\n",
        b"\r",
        b",",
        b",,,\n",
        b"\"",
        b"\"\"",
        b" ",
        "Ж".as_bytes(),
        b"\xC8\xE2\xE0\xED",
        b"\xD0",
        b"\xEF\xBB\xBF",
        b"\0",
        HEADER.as_bytes(),
        ROW.as_bytes(),
    ];
    prop_oneof![
        4 => proptest::sample::select(words).prop_map(|w| Piece::Bytes(w.to_vec())),
        2 => proptest::collection::vec(any::<u8>(), 0..32).prop_map(Piece::Bytes),
        2 => (proptest::sample::select(vec![b'a', b'\n', b',', b'"', b' ', b'\r']), 0usize..300)
            .prop_map(|(byte, count)| Piece::Run { byte, count }),
        1 => (proptest::sample::select(vec![b'a', b'\n', b',', b'"']), 0usize..600_000)
            .prop_map(|(byte, count)| Piece::Run { byte, count }),
    ]
}

/// CSV-like text: pieces, each once to three times.
fn text() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((piece(), 1usize..4), 0..16).prop_map(|pieces| {
        let mut out = Vec::new();
        for (p, times) in pieces {
            for _ in 0..times {
                match &p {
                    Piece::Bytes(b) => out.extend_from_slice(b),
                    Piece::Run { byte, count } => out.extend(std::iter::repeat_n(*byte, *count)),
                }
            }
        }
        out
    })
}

fn entry_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "users.csv",
            "classes.csv",
            "enrollments.csv",
            "academicSessions.csv",
            "export/Users.csv",
            "manifest.csv",
            "orgs.csv",
            "notes.txt",
            "dir/",
        ])
        .prop_map(str::to_owned),
        "[a-z]{1,8}\\.csv",
    ]
}

/// A zip of such files, stored or deflated, then perhaps damaged: bytes overwritten at
/// positions given as fractions of its length.
fn zip_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((entry_name(), text(), any::<bool>()), 0..5),
        proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..4),
    )
        .prop_map(|(entries, damage)| {
            let mut out = std::io::Cursor::new(Vec::new());
            {
                let mut zip = zip::ZipWriter::new(&mut out);
                for (name, body, deflate) in &entries {
                    let method =
                        if *deflate { zip::CompressionMethod::Deflated } else { zip::CompressionMethod::Stored };
                    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
                    // A name twice is refused by the writer: that entry is left out.
                    if zip.start_file(name.as_str(), opts).is_ok() {
                        let _ = zip.write_all(body);
                    }
                }
                let _ = zip.finish();
            }
            let mut bytes = out.into_inner();
            let len = bytes.len();
            for (at, b) in damage {
                if len > 0 {
                    bytes[((at * len as f64) as usize).min(len - 1)] = b;
                }
            }
            bytes
        })
}

fn upload_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => zip_bytes(),
        1 => text(),
        1 => proptest::collection::vec(any::<u8>(), 0..4096),
        1 => proptest::collection::vec(any::<u8>(), 0..4096).prop_map(|b| [b"PK\x03\x04".to_vec(), b].concat()),
    ]
}

const FILES: [RosterFile; 6] = [
    RosterFile::Manifest,
    RosterFile::AcademicSessions,
    RosterFile::Orgs,
    RosterFile::Classes,
    RosterFile::Users,
    RosterFile::Enrollments,
];

/// Reads every row of `text` as `file` would be read; answers the rows read.
fn read_all(file: RosterFile, text: &[u8], limits: Limits) -> usize {
    let Ok(rows) = rows_within(file, text, limits) else { return 0 };
    let mut n = 0;
    for row in rows {
        drop(row);
        n += 1;
    }
    n
}

/// Opens `bytes` as an upload and reads every row of every file it applies.
fn import_all(bytes: &[u8], name: Option<&str>, limits: Limits) -> usize {
    let Ok(mut file) = tempfile::tempfile() else { return 0 };
    if file.write_all(bytes).and_then(|()| file.seek(SeekFrom::Start(0))).is_err() {
        return 0;
    }
    let Ok(mut upload) = open_within(file, name, limits) else { return 0 };
    let mut n = 0;
    for f in APPLIED {
        if let Some(Ok(rows)) = upload.rows(f) {
            n += rows.count();
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn rows_of_any_bytes_stay_within_bounds(text in text(), file in proptest::sample::select(FILES.to_vec())) {
        let (_, most) = peak(|| read_all(file, &text, SMALL));
        prop_assert!(most <= SMALL.held() + ROWS_SLACK, "held {most} bytes reading {} bytes", text.len());
    }

    #[test]
    fn an_upload_of_any_bytes_stays_within_bounds(bytes in upload_bytes(), named in any::<bool>()) {
        let name = if named { Some("users.csv") } else { None };
        let Ok(mut file) = tempfile::tempfile() else { return Ok(()) };
        prop_assume!(file.write_all(&bytes).and_then(|()| file.seek(SeekFrom::Start(0))).is_ok());
        let (_, most) = peak(|| {
            let Ok(mut upload) = open_within(file, name, SMALL) else { return };
            for f in APPLIED {
                if let Some(Ok(rows)) = upload.rows(f) {
                    rows.for_each(drop);
                }
            }
        });
        prop_assert!(most <= SMALL.held() + ROWS_SLACK + ZIP_SLACK, "held {most} bytes reading {} bytes", bytes.len());
    }
}

#[test]
fn the_counting_allocator_sees_what_is_held() {
    let (_, most) = peak(|| {
        let v = vec![1u8; 1 << 20];
        v.len()
    });
    assert!(most >= 1 << 20, "{most}");
    // Reading a long field whole would hold it: the bound is far below.
    let long = format!("{HEADER}\nu1,teacher,{},x\n", "a".repeat(1 << 20));
    let (n, most) = peak(|| read_all(RosterFile::Users, long.as_bytes(), SMALL));
    assert_eq!(n, 1);
    assert!(most <= SMALL.held() + ROWS_SLACK, "{most}");
    assert_eq!(import_all(long.as_bytes(), Some("users.csv"), SMALL), 1);
}
