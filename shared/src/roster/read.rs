//! CSV records read within fixed bounds, whatever the input holds: csv-core's parser (the
//! csv crate's own) fed a buffer of the input at a time, each record's fields copied into
//! a buffer of at most [`Limits::row`] bytes. What is past a bound (a field over 1 MiB, a
//! row over 2 MiB or 1,000 columns) is read past and never kept: the record is reported
//! too long, with its line, and reading goes on with the next one. Blank lines are counted
//! and skipped as they are read. Nothing grows with the file.

use std::io::{self, Read};

use csv_core::ReadRecordResult;

/// The most one field may hold: 1 MiB (a journal's longest, an address or a list of IDs,
/// is a few hundred bytes).
pub const MAX_FIELD_BYTES: usize = 1 << 20;
/// The most one row may hold, its fields together: 2 MiB.
pub const MAX_ROW_BYTES: usize = 2 << 20;
/// The most columns a row may have (OneRoster's users.csv has 20, extensions a few more).
pub const MAX_COLUMNS: usize = 1000;
/// Bytes of the input read at once.
pub(crate) const INPUT_BUFFER: usize = 64 * 1024;

/// The bounds a reader keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub field: usize,
    pub row: usize,
    pub columns: usize,
}

impl Limits {
    pub const DEFAULT: Limits = Limits { field: MAX_FIELD_BYTES, row: MAX_ROW_BYTES, columns: MAX_COLUMNS };

    /// The most a reader holds: its input buffer, a row and its field ends.
    pub fn held(&self) -> usize {
        INPUT_BUFFER + self.row + 1 + (self.columns + 1) * std::mem::size_of::<usize>()
    }
}

/// Why a file cannot be read at all.
#[derive(Debug)]
pub(crate) enum Unreadable {
    Io(io::Error),
    /// A record that is not UTF-8, starting on this line.
    NotUtf8(u64),
}

/// What reading a record gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// A record starting on this line: its fields are [`Reader::field`]'s.
    Read(u64),
    /// A record starting on this line, read past: this bound was crossed.
    TooLong { line: u64, bound: Bound },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    Field,
    Row,
    Columns,
}

impl Bound {
    /// Why the row is refused, for a school admin.
    pub(crate) fn reason(self, limits: &Limits) -> String {
        match self {
            Bound::Field => format!(
                "a field is longer than {}: the row is left out (is a quote missing its closing quote?)",
                size(limits.field)
            ),
            Bound::Row => format!("the row is longer than {} in all: it is left out", size(limits.row)),
            Bound::Columns => format!("the row has more than {} columns: it is left out", limits.columns),
        }
    }
}

fn size(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads records from `input` within `limits`.
pub(crate) struct Reader<R> {
    input: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    started: bool,
    core: csv_core::Reader,
    limits: Limits,
    /// Newlines read so far: the next byte is on line `newlines + 1`.
    newlines: u64,
    /// The last record's fields, copied together (its first `used` bytes); the rest of the
    /// buffer is room already made.
    row: Vec<u8>,
    used: usize,
    /// Where each of its fields ends in `row`; `fields` of them.
    ends: Vec<usize>,
    fields: usize,
}

impl<R: Read> Reader<R> {
    pub(crate) fn new(input: R, limits: Limits) -> Self {
        Reader {
            input,
            buf: vec![0; INPUT_BUFFER].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            started: false,
            core: csv_core::Reader::new(),
            limits,
            newlines: 0,
            row: Vec::new(),
            used: 0,
            ends: vec![0; limits.columns + 1],
            fields: 0,
        }
    }

    /// Reads more input once everything buffered is consumed.
    fn fill(&mut self) -> io::Result<()> {
        while self.pos == self.len && !self.eof {
            match self.input.read(&mut self.buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Skips a UTF-8 byte order mark at the start of the input.
    fn start(&mut self) -> io::Result<()> {
        self.started = true;
        while self.len < 3 && !self.eof {
            match self.input.read(&mut self.buf[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.buf[..self.len].starts_with(b"\xEF\xBB\xBF") {
            self.pos = 3;
        }
        Ok(())
    }

    /// The next record (blank lines skipped), `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record>, Unreadable> {
        if !self.started {
            self.start().map_err(Unreadable::Io)?;
        }
        // Line ends before a record are empty lines: counted, nothing kept.
        loop {
            self.fill().map_err(Unreadable::Io)?;
            if self.pos == self.len {
                return Ok(None);
            }
            let rest = &self.buf[self.pos..self.len];
            let skip = rest.iter().take_while(|b| matches!(b, b'\n' | b'\r')).count();
            self.newlines += rest[..skip].iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos += skip;
            if self.pos < self.len {
                break;
            }
        }
        let line = self.newlines + 1;
        self.used = 0;
        self.fields = 0;
        let mut crossed: Option<Bound> = None;
        // Where a record too long goes: read, then dropped.
        let (mut scratch, mut scratch_ends) = ([0u8; 4096], [0usize; 64]);
        loop {
            self.fill().map_err(Unreadable::Io)?;
            let input = &self.buf[self.pos..self.len];
            let (result, nin) = match crossed {
                None => {
                    let field_start = if self.fields == 0 { 0 } else { self.ends[self.fields - 1] };
                    // One byte past each bound: a field or row of exactly the bound fits.
                    let window = (self.limits.row + 1).min(field_start + self.limits.field + 1);
                    if self.used >= window {
                        crossed =
                            Some(if self.used - field_start > self.limits.field { Bound::Field } else { Bound::Row });
                        continue;
                    }
                    if self.row.len() <= self.used {
                        let room = (self.row.len() * 2).max(4096).min(self.limits.row + 1);
                        self.row.reserve_exact(room - self.row.len());
                        self.row.resize(room, 0);
                    }
                    let end = window.min(self.row.len());
                    let (result, nin, nout, nend) =
                        self.core.read_record(input, &mut self.row[self.used..end], &mut self.ends[self.fields..]);
                    self.used += nout;
                    self.fields += nend;
                    if result == ReadRecordResult::OutputEndsFull {
                        crossed = Some(Bound::Columns);
                    }
                    (result, nin)
                }
                Some(_) => {
                    let (result, nin, _, _) = self.core.read_record(input, &mut scratch, &mut scratch_ends);
                    (result, nin)
                }
            };
            self.newlines += input[..nin].iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos += nin;
            match result {
                ReadRecordResult::Record => break,
                // Only an empty input at a record's start ends it, and a record starts
                // with a byte read.
                ReadRecordResult::End => return Ok(None),
                ReadRecordResult::InputEmpty | ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {}
            }
        }
        if crossed.is_none() && self.fields > self.limits.columns {
            crossed = Some(Bound::Columns);
        }
        if let Some(bound) = crossed {
            self.used = 0;
            self.fields = 0;
            return Ok(Some(Record::TooLong { line, bound }));
        }
        if (0..self.fields).any(|i| std::str::from_utf8(self.bytes(i)).is_err()) {
            return Err(Unreadable::NotUtf8(line));
        }
        Ok(Some(Record::Read(line)))
    }

    fn bytes(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.row.get(start..self.ends[i]).unwrap_or_default()
    }

    /// Field `i` of the last record read.
    pub(crate) fn field(&self, i: usize) -> Option<&str> {
        if i >= self.fields {
            return None;
        }
        std::str::from_utf8(self.bytes(i)).ok()
    }

    /// The fields of the last record read.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &str> {
        (0..self.fields).filter_map(|i| self.field(i))
    }

    /// The bytes the last record's fields hold.
    pub(crate) fn record_bytes(&self) -> usize {
        self.used
    }

    pub(crate) fn limits(&self) -> &Limits {
        &self.limits
    }

    /// What the reader holds now: its buffers.
    pub(crate) fn held(&self) -> usize {
        self.buf.len() + self.row.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

/// Why a file is not UTF-8, for a school admin: journals and Excel often save CSV in
/// Windows-1251.
pub(crate) fn not_utf8(line: u64) -> String {
    format!(
        "is not in UTF-8 (line {line} is the first that is not): it was likely saved in Windows-1251. \
         Save it as UTF-8 (in Excel: Save As, \"CSV UTF-8\"; or export it from the journal again in UTF-8) \
         and upload it again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &[u8], limits: Limits) -> Vec<Result<(Record, Vec<String>), String>> {
        let mut r = Reader::new(text, limits);
        let mut out = Vec::new();
        loop {
            match r.next_record() {
                Ok(None) => return out,
                Ok(Some(rec)) => out.push(Ok((rec, r.fields().map(str::to_owned).collect()))),
                Err(e) => {
                    out.push(Err(format!("{e:?}")));
                    return out;
                }
            }
        }
    }

    fn small() -> Limits {
        Limits { field: 8, row: 16, columns: 3 }
    }

    #[test]
    fn records_keep_their_lines_through_blank_lines_crlf_and_quoted_line_breaks() {
        let text = b"\xEF\xBB\xBF\r\n\na,b\r\n\"x\ny\",z\n\n\r\n\nc,\"d\"\"e\"\nlast";
        let got = records(text, Limits::DEFAULT);
        let lines: Vec<(u64, Vec<String>)> = got
            .into_iter()
            .map(|r| match r {
                Ok((Record::Read(l), f)) => (l, f),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            lines,
            [
                (3, vec!["a".to_string(), "b".into()]),
                (4, vec!["x\ny".into(), "z".into()]),
                (9, vec!["c".into(), "d\"e".into()]),
                (10, vec!["last".into()]),
            ]
        );
    }

    #[test]
    fn a_bound_crossed_is_that_records_and_reading_goes_on() {
        // A field of exactly the bound fits; one byte more does not.
        let text = b"12345678,a\n123456789,b\nok\n1,2,3\n1,2,3,4\n12345678,12345678\n12345678,12345678,1\nend\n";
        let got: Vec<Record> = records(text, small()).into_iter().map(|r| r.unwrap().0).collect();
        assert_eq!(
            got,
            [
                Record::Read(1),
                Record::TooLong { line: 2, bound: Bound::Field },
                Record::Read(3),
                Record::Read(4),
                Record::TooLong { line: 5, bound: Bound::Columns },
                Record::Read(6),
                Record::TooLong { line: 7, bound: Bound::Row },
                Record::Read(8),
            ]
        );
        // A quote never closed: the rest of the file is one field, read past.
        let open = format!("h\na,\"{}\nb\n", "x\n".repeat(1000));
        let got = records(open.as_bytes(), small());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1].as_ref().unwrap().0, Record::TooLong { line: 2, bound: Bound::Field });
    }

    #[test]
    fn bytes_that_are_not_utf8_make_the_file_unreadable() {
        let got = records("a,b\nИван,\u{401}\n".as_bytes(), Limits::DEFAULT);
        assert!(got.iter().all(Result::is_ok), "{got:?}");
        // Windows-1251 "Иван".
        let got = records(b"a,b\n\xC8\xE2\xE0\xED,x\n", Limits::DEFAULT);
        assert_eq!(got.last().unwrap().as_ref().unwrap_err(), "NotUtf8(2)");
        assert!(not_utf8(2).contains("Windows-1251") && not_utf8(2).contains("UTF-8"));
    }
}
