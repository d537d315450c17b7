//! CSV that a Russian-locale Excel opens with its Cyrillic intact: UTF-8 with a BOM, `;`
//! between cells by default (`,` on request), CRLF line ends, and quoting per RFC 4180.
//!
//! Text is what people typed (names, positions), so no cell of it may become a formula
//! (OWASP's advice against CSV injection), whichever separator the reader splits on:
//!
//! - Every text cell is quoted, whatever the separator: a reader splitting on the file's
//!   own separator keeps the cell whole, `,` and `;` in it included. Numbers and dates,
//!   which this module writes itself and which hold neither separator nor quote, stay bare.
//! - A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//!   leading apostrophe: a member named `=HYPERLINK(...)` stays a name.
//! - So does such a character after a `,`, `;` or line break inside a text cell (spaces
//!   between them or at the start do not hide it: a reader may trim them).
//!   Quoting does not protect there: a reader splitting on the other separator (a `;`
//!   file opened by an Excel whose list separator is `,`, or the reverse) leaves the quotes
//!   behind after the row's first cell (RFC 4180 quotes a cell only from its first
//!   character), and then cuts `Иван,=1+1` at its comma into a cell `=1+1`. With the
//!   guard it reads `'=1+1` there, text; under the file's own separator the name reads
//!   `Иван,'=1+1`, whole.

use std::io::Write;

use super::Cell;

/// The UTF-8 byte order mark: how Excel knows the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub use crate::domain::exports::Delimiter;

/// Rows written as they come; `finish` hands the output back.
pub struct CsvSink<W: Write> {
    out: W,
    delimiter: char,
    /// The row being written (kept to reuse its allocation).
    line: String,
    rows: u64,
}

impl<W: Write> CsvSink<W> {
    /// Starts the file (its BOM) on `out`.
    pub fn new(mut out: W, delimiter: Delimiter) -> std::io::Result<Self> {
        out.write_all(BOM)?;
        Ok(CsvSink { out, delimiter: char::from(delimiter.byte()), line: String::new(), rows: 0 })
    }

    /// Writes a row. Rows may differ in width (the summary's figures, then its days).
    pub fn row(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        self.line.clear();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.line.push(self.delimiter);
            }
            write_cell(&mut self.line, cell);
        }
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())?;
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
        Ok(self.out)
    }
}

/// A cell as CSV: text guarded and quoted, numbers and dates bare, nothing for an empty
/// cell.
fn write_cell(line: &mut String, cell: &Cell) {
    match cell {
        Cell::Text(t) => {
            line.push('"');
            for c in neutralised(t).chars() {
                if c == '"' {
                    line.push('"');
                }
                line.push(c);
            }
            line.push('"');
        }
        Cell::Number(n) => line.push_str(&n.to_string()),
        // Excel reads `2026-12-06 07:30:00` as a date and time in any locale.
        Cell::Time(t) => line.push_str(&t.inner().format(&DATE_TIME).unwrap_or_default()),
        Cell::Day(d) => line.push_str(&d.format(&DAY).unwrap_or_default()),
        Cell::Empty => {}
    }
}

const DAY: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

const DATE_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// The characters that make a spreadsheet read a cell as a formula.
fn starts_formula(c: char) -> bool {
    matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r')
}

/// Where a reader may start a cell inside a text: after a separator of either kind, or a
/// line break (a reader that has left the quotes behind ends the row there).
fn starts_cell_after(c: char) -> bool {
    matches!(c, ',' | ';' | '\n' | '\r')
}

/// Text a spreadsheet would take for a formula, made plain text: an apostrophe before a
/// formula character at the start and wherever a reader could start a cell (see the
/// module's comment).
pub fn neutralised(t: &str) -> String {
    let mut out = String::with_capacity(t.len() + 1);
    let mut cell_start = true;
    for c in t.chars() {
        if cell_start && starts_formula(c) {
            out.push('\'');
        }
        out.push(c);
        cell_start = starts_cell_after(c) || (cell_start && c == ' ');
    }
    out
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

    /// The rows a CSV reader splitting on `delimiter` reads (the BOM left out).
    fn read(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
        assert!(bytes.starts_with(BOM));
        let mut reader =
            csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(&bytes[3..]);
        reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect()
    }

    const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

    #[test]
    fn excel_gets_a_bom_semicolons_crlf_and_every_text_quoted() {
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
            "\"ФИО\";\"Должность\";\"Публикации\"\r\n\"Иванова Анна\";\"Учитель; классный руководитель\";12\r\n\"Петров \"\"Пётр\"\"\";\"Завуч\nпо УВР\";\r\n"
        );
        // Read back as a spreadsheet would, with `;`.
        let back = read(&bytes, b';');
        assert_eq!(back[1], ["Иванова Анна", "Учитель; классный руководитель", "12"]);
        assert_eq!(back[2], ["Петров \"Пётр\"", "Завуч\nпо УВР", ""]);
    }

    #[test]
    fn commas_on_request_and_text_quoted_as_with_semicolons() {
        let bytes = write(&[vec![Cell::from("a,b"), Cell::from("c"), Cell::Number(1), Cell::Empty]], Delimiter::Comma);
        assert_eq!(&bytes[3..], b"\"a,b\",\"c\",1,\r\n");
    }

    #[test]
    fn numbers_and_dates_stay_bare_text_is_quoted_even_when_it_looks_like_a_number() {
        let t = Timestamp::parse("2026-12-06T07:30:05.123Z").unwrap();
        let day = time::macros::date!(2026 - 12 - 06);
        let bytes =
            write(&[vec![Cell::Number(7), Cell::Time(t), Cell::Day(day), Cell::from("7")]], Delimiter::Semicolon);
        assert_eq!(&bytes[3..], b"7;2026-12-06 07:30:05;2026-12-06;\"7\"\r\n");
    }

    #[test]
    fn a_formula_character_is_guarded_wherever_a_cell_could_start() {
        for evil in ["=HYPERLINK(\"http://evil.example\")", "+7 999", "-1+1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralised(evil), format!("'{evil}"), "{evil:?}");
        }
        assert_eq!(neutralised("Иван,=1+1"), "Иван,'=1+1");
        assert_eq!(neutralised("a;-2+3,@SUM(A1)"), "a;'-2+3,'@SUM(A1)");
        assert_eq!(neutralised("строка\n=1+1"), "строка\n'=1+1");
        assert_eq!(neutralised("Учитель, =2+2"), "Учитель, '=2+2", "spaces do not hide it");
        assert_eq!(neutralised("  @x"), "  '@x");
        // Only where a cell could start: not in a word, not after a word and a space.
        for fine in ["Анна", "7А", "", "'quoted", "Римский-Корсаков", "a -b", "Учитель; классный руководитель", "1+1=2"]
        {
            assert_eq!(neutralised(fine), fine, "{fine:?}");
        }
        let bytes = write(&[vec![Cell::from("=1+1"), Cell::Number(5)]], Delimiter::Semicolon);
        assert_eq!(&bytes[3..], b"\"'=1+1\";5\r\n");
    }

    /// Names a spreadsheet would run, in a row with more text after them: read back by a
    /// CSV reader splitting on `;` and on `,`, whichever separator the file has.
    #[test]
    fn no_reader_of_either_separator_cuts_a_cell_into_a_formula() {
        let names = ["Иван,=1+1", "=cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "Пётр;+1", "Анна, завуч", "x, =1+1"];
        let rows: Vec<Vec<Cell>> = names
            .iter()
            .map(|n| {
                vec![Cell::from(*n), Cell::from("учитель, классный руководитель"), Cell::from(*n), Cell::Number(3)]
            })
            .collect();
        for delimiter in [Delimiter::Semicolon, Delimiter::Comma] {
            let bytes = write(&rows, delimiter);
            // Split on the file's own separator: every cell whole, guarded where it must be.
            let own = read(&bytes, delimiter.byte());
            for (row, name) in own.iter().zip(names) {
                let name = neutralised(name);
                assert_eq!(
                    row,
                    &[name.as_str(), "учитель, классный руководитель", name.as_str(), "3"],
                    "{delimiter:?}"
                );
            }
            // Split on either: no cell starts with a formula character, and the first
            // cell (quoted from its first character) keeps the whole name.
            for split in [b';', b','] {
                let back = read(&bytes, split);
                assert_eq!(back.len(), names.len(), "one row a line");
                for (row, name) in back.iter().zip(names) {
                    assert!(
                        row[0].starts_with(&neutralised(name)),
                        "{delimiter:?} split on {}: {row:?}",
                        split as char
                    );
                    for cell in row {
                        // As a reader that trims spaces would see it, too.
                        let first = cell.trim_start_matches(' ').chars().next();
                        assert!(!first.is_some_and(|c| FORMULA_STARTS.contains(&c)), "{cell:?} in {row:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn times_are_dates_excel_reads() {
        let t = Timestamp::parse("2026-12-06T07:30:05.123Z").unwrap();
        let mut line = String::new();
        write_cell(&mut line, &Cell::Time(t));
        assert_eq!(line, "2026-12-06 07:30:05");
    }
}
