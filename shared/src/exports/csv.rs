//! CSV that a Russian-locale Excel opens with its Cyrillic intact: UTF-8 with a BOM, `;`
//! between cells by default (`,` on request), CRLF line ends, quoting per RFC 4180, and
//! text that a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a
//! carriage return first) neutralised with a leading apostrophe (OWASP's advice against
//! CSV injection): a member named `=HYPERLINK(...)` stays a name.

use std::borrow::Cow;
use std::io::Write;

use super::Cell;

/// The UTF-8 byte order mark: how Excel knows the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub use crate::domain::exports::Delimiter;

/// Rows written as they come; `finish` flushes and hands the output back.
pub struct CsvSink<W: Write> {
    out: csv::Writer<W>,
    rows: u64,
}

impl<W: Write> CsvSink<W> {
    /// Starts the file (its BOM) on `out`.
    pub fn new(mut out: W, delimiter: Delimiter) -> std::io::Result<Self> {
        out.write_all(BOM)?;
        let out = csv::WriterBuilder::new()
            .delimiter(delimiter.byte())
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            // A file may hold tables of different widths (the summary's figures, then its days).
            .flexible(true)
            .from_writer(out);
        Ok(CsvSink { out, rows: 0 })
    }

    pub fn row(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        self.out.write_record(cells.iter().map(|c| text(c).into_owned())).map_err(std::io::Error::other)?;
        self.rows += 1;
        Ok(())
    }

    /// Hands what was written so far to the output.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Rows written, the header included.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn finish(self) -> std::io::Result<W> {
        self.out.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// A cell as CSV text.
fn text(cell: &Cell) -> Cow<'_, str> {
    match cell {
        Cell::Text(t) => neutralised(t),
        Cell::Number(n) => Cow::Owned(n.to_string()),
        // Excel reads `2026-12-06 07:30:00` as a date and time in any locale.
        Cell::Time(t) => Cow::Owned(t.inner().format(&DATE_TIME).unwrap_or_default()),
        Cell::Day(d) => Cow::Owned(d.format(&DAY).unwrap_or_default()),
        Cell::Empty => Cow::Borrowed(""),
    }
}

const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

const DATE_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Text a spreadsheet would take for a formula, made plain text.
pub fn neutralised(t: &str) -> Cow<'_, str> {
    match t.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{t}")),
        _ => Cow::Borrowed(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;

    fn write(rows: &[Vec<Cell>], delimiter: Delimiter) -> Vec<u8> {
        let mut sink = CsvSink::new(Vec::new(), delimiter).unwrap();
        for r in rows {
            sink.row(r).unwrap();
        }
        assert_eq!(sink.rows(), rows.len() as u64);
        sink.finish().unwrap()
    }

    #[test]
    fn excel_gets_a_bom_semicolons_crlf_and_quotes_where_needed() {
        let rows = vec![
            vec![Cell::from("ФИО"), Cell::from("Должность"), Cell::from("Публикации")],
            vec![Cell::from("Иванова Анна"), Cell::from("Учитель; классный руководитель"), Cell::Number(12)],
            vec![Cell::from("Петров \"Пётр\""), Cell::from("Завуч\nпо УВР"), Cell::Empty],
        ];
        let bytes = write(&rows, Delimiter::Semicolon);
        assert!(bytes.starts_with(BOM));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "ФИО;Должность;Публикации\r\nИванова Анна;\"Учитель; классный руководитель\";12\r\n\"Петров \"\"Пётр\"\"\";\"Завуч\nпо УВР\";\r\n"
        );
        // Read back as a spreadsheet would, with `;`.
        let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).from_reader(&bytes[3..]);
        let back: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        assert_eq!(back[1][1], "Учитель; классный руководитель");
        assert_eq!(back[2], ["Петров \"Пётр\"", "Завуч\nпо УВР", ""]);
    }

    #[test]
    fn commas_on_request() {
        let bytes = write(&[vec![Cell::from("a,b"), Cell::Number(1)]], Delimiter::Comma);
        assert_eq!(&bytes[3..], b"\"a,b\",1\r\n");
    }

    #[test]
    fn formulas_stay_text() {
        for evil in ["=HYPERLINK(\"http://evil.example\")", "+7 999", "-1+1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralised(evil).starts_with('\''), "{evil:?}");
        }
        for fine in ["Анна", "7А", "", "'quoted"] {
            assert_eq!(neutralised(fine), fine);
        }
        let bytes = write(&[vec![Cell::from("=1+1"), Cell::Number(5)]], Delimiter::Semicolon);
        assert_eq!(&bytes[3..], b"'=1+1;5\r\n");
    }

    #[test]
    fn times_are_dates_excel_reads() {
        let t = Timestamp::parse("2026-12-06T07:30:05.123Z").unwrap();
        assert_eq!(text(&Cell::Time(t)), "2026-12-06 07:30:05");
    }
}
