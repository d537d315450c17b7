//! XLSX through rust_xlsxwriter in constant-memory mode: each worksheet's rows go to a
//! temporary file as they are written, so memory does not grow with the rows. The header
//! row stays visible (frozen) and bold, columns are as wide as what they hold (measured
//! while writing, set at the end), times are real dates, and text is always a text cell
//! (never a formula, whatever it starts with). A workbook can carry a chart of a series.

use rust_xlsxwriter::{Chart, ChartType, ExcelDateTime, Format, Workbook, XlsxError};

use super::Cell;

/// Widths are measured in characters, within these bounds.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// A workbook being written: one sheet at a time, rows in order.
pub struct XlsxSink {
    book: Workbook,
    header: Format,
    date: Format,
    day: Format,
    /// The sheet being written: its index, next row and the widest cell of each column.
    sheet: usize,
    row: u32,
    widths: Vec<usize>,
    rows: u64,
}

fn err(e: XlsxError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// A chart of one series written on the current sheet: categories and values in two
/// columns, from `first_row` to `last_row` (0-based, header excluded).
pub struct SeriesChart<'a> {
    pub title: &'a str,
    pub series_name: &'a str,
    pub categories_col: u16,
    pub values_col: u16,
    pub first_row: u32,
    pub last_row: u32,
    /// Where its top left corner goes (row, column).
    pub at: (u32, u16),
}

impl XlsxSink {
    pub fn new() -> Self {
        XlsxSink {
            book: Workbook::new(),
            header: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
            day: Format::new().set_num_format("yyyy-mm-dd"),
            sheet: 0,
            row: 0,
            widths: Vec::new(),
            rows: 0,
        }
    }

    /// Starts a sheet named `name` with its header row (frozen, bold).
    pub fn sheet(&mut self, name: &str, header: &[&str]) -> std::io::Result<()> {
        if !self.book.worksheets().is_empty() {
            self.end_sheet()?;
        }
        let sheet = self.book.add_worksheet_with_constant_memory().map_err(err)?;
        sheet.set_name(name).map_err(err)?;
        for (c, h) in header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &self.header).map_err(err)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(err)?;
        self.sheet = self.book.worksheets().len() - 1;
        self.row = 1;
        self.widths = header.iter().map(|h| h.chars().count()).collect();
        Ok(())
    }

    /// Writes a row of the current sheet.
    pub fn row(&mut self, cells: &[Cell]) -> std::io::Result<()> {
        let sheet = self.book.worksheet_from_index(self.sheet).map_err(err)?;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let width = match cell {
                Cell::Text(t) => {
                    sheet.write_string(self.row, col, t).map_err(err)?;
                    t.lines().map(|l| l.chars().count()).max().unwrap_or(0)
                }
                Cell::Number(n) => {
                    sheet.write_number(self.row, col, *n as f64).map_err(err)?;
                    n.to_string().len()
                }
                Cell::Time(t) => {
                    let at = ExcelDateTime::from_timestamp(t.unix()).map_err(err)?;
                    sheet.write_datetime_with_format(self.row, col, at, &self.date).map_err(err)?;
                    16
                }
                Cell::Day(d) => {
                    let day = ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day()).map_err(err)?;
                    sheet.write_datetime_with_format(self.row, col, day, &self.day).map_err(err)?;
                    10
                }
                Cell::Empty => 0,
            };
            if self.widths.len() <= c {
                self.widths.resize(c + 1, 0);
            }
            self.widths[c] = self.widths[c].max(width);
        }
        self.row += 1;
        self.rows += 1;
        Ok(())
    }

    /// Puts a chart of a series of the current sheet on it.
    pub fn chart(&mut self, spec: &SeriesChart<'_>) -> std::io::Result<()> {
        let sheet = self.book.worksheet_from_index(self.sheet).map_err(err)?;
        let name = sheet.name();
        let mut chart = Chart::new(ChartType::Column);
        chart
            .add_series()
            .set_name(spec.series_name)
            .set_categories((name.as_str(), spec.first_row, spec.categories_col, spec.last_row, spec.categories_col))
            .set_values((name.as_str(), spec.first_row, spec.values_col, spec.last_row, spec.values_col));
        chart.title().set_name(spec.title);
        chart.legend().set_hidden();
        chart.set_width(720).set_height(360);
        sheet.insert_chart(spec.at.0, spec.at.1, &chart).map_err(err)?;
        Ok(())
    }

    /// Rows written, headers not included.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn end_sheet(&mut self) -> std::io::Result<()> {
        let sheet = self.book.worksheet_from_index(self.sheet).map_err(err)?;
        for (c, w) in self.widths.iter().enumerate() {
            let width = (*w + 2).clamp(MIN_WIDTH, MAX_WIDTH);
            sheet.set_column_width(c as u16, width as f64).map_err(err)?;
        }
        Ok(())
    }

    /// Writes the workbook (zipped) to `out`.
    pub fn finish<W: std::io::Write + Send>(mut self, out: W) -> std::io::Result<()> {
        self.end_sheet()?;
        self.book.save_to_writer(out).map_err(err)
    }
}

impl Default for XlsxSink {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// A sheet's XML from a written workbook.
    fn sheet_xml(book: &[u8]) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
        let mut xml = String::new();
        zip.by_name("xl/worksheets/sheet1.xml").unwrap().read_to_string(&mut xml).unwrap();
        xml
    }

    #[test]
    fn text_that_looks_like_a_formula_is_written_as_text_never_a_formula() {
        let names = ["=1+1", "Иван,=1+1", "=cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "+7 999"];
        let mut sink = XlsxSink::new();
        sink.sheet("Сотрудники", &["ФИО", "Публикации"]).unwrap();
        for name in names {
            sink.row(&[Cell::from(name), Cell::Number(1)]).unwrap();
        }
        let mut book = Vec::new();
        sink.finish(&mut book).unwrap();
        let xml = sheet_xml(&book);
        assert!(!xml.contains("<f>") && !xml.contains("<f "), "no formula: {xml}");
        // Each name a string cell, as typed: no apostrophe (a text cell is never run).
        assert_eq!(xml.matches("t=\"inlineStr\"").count(), names.len() + 2, "{xml}");
        for name in names {
            let escaped = name.replace('&', "&amp;").replace('\'', "&apos;").replace('<', "&lt;");
            assert!(xml.contains(&format!(">{name}<")) || xml.contains(&format!(">{escaped}<")), "{name}: {xml}");
        }
    }
}
