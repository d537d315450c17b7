//! Exports for admins (R9.3): the employees and the summary as CSV (read back as Excel in
//! a Russian locale would: BOM, `;`, CRLF, quoting, formulas made text, also when read
//! with the other separator) and as XLSX (read
//! back with a spreadsheet reader: sheets, header, real dates, inline strings, a frozen
//! bold header, a chart), built by the exporter and downloaded through a presigned GET of
//! 15 minutes under the file's name; the "export ready" email, once, in the admin's
//! language; who may ask and read; validation; the audit entry; at most three building
//! per admin, under a race too.

use std::collections::HashMap;
use std::io::Read;

use aws_sdk_dynamodb::types::AttributeValue;
use kabinet::domain::Timestamp;
use kabinet_tests::support;
use kabinet_tests::support::{
    all_pages, circle, client, enrol, mail_to, now, parent, percent_decode, query, registered, school, student,
    teacher, unix, Resp, User,
};
use reqwest::Method;
use serde_json::{json, Value};

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";
const CSV_TYPE: &str = "text/csv; charset=utf-8";
const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// A teacher whose name a spreadsheet would take for a formula.
const EVIL: &str = "=HYPERLINK(\"http://evil.test\",\"Жми\")";
/// A position that needs quoting in a CSV.
const TRICKY_POSITION: &str = "Завуч; по \"УВР\"";

const EMPLOYEES_RU: [&str; 10] = [
    "ФИО",
    "Роли",
    "Должность",
    "Классы",
    "В организации с",
    "Последняя активность",
    "Дней активности из 30",
    "Публикации",
    "Объявления",
    "Файлы",
];

const EMPLOYEES_EN: [&str; 10] = [
    "Name",
    "Roles",
    "Position",
    "Classes",
    "Joined",
    "Last active",
    "Active days of 30",
    "Posts",
    "Announcements",
    "Files",
];

fn exports_path(org: &str) -> String {
    format!("/v1/orgs/{org}/exports")
}

/// Asks for an export; answers the 202's body after checking what it says at once.
async fn request(admin: &User, org: &str, body: Value) -> Value {
    let r = admin.post(&exports_path(org), body.clone()).await;
    let view = r.ok(202).clone();
    let id = view["id"].as_str().expect("an id").to_string();
    assert_eq!(r.header("location"), Some(format!("/v1/orgs/{org}/exports/{id}").as_str()));
    assert_eq!(view["status"], "pending", "{view}");
    assert_eq!(view["kind"], body["kind"]);
    assert_eq!(view["format"], body["format"]);
    if body["format"] == "csv" {
        assert_eq!(view["delimiter"], body.get("delimiter").cloned().unwrap_or(json!(";")), "{view}");
    } else {
        assert!(view.get("delimiter").is_none(), "no delimiter for a workbook: {view}");
    }
    assert_eq!((view["rows"].as_u64(), view["size"].as_u64()), (Some(0), Some(0)), "{view}");
    assert_eq!(view["requested_by"], admin.sub.as_str());
    assert!(view["ready_at"].is_null(), "{view}");
    assert!(view.get("download_url").is_none() && view.get("url_expires_at").is_none(), "{view}");
    let kept = unix(&view["expires_at"]) - unix(&view["created_at"]);
    assert_eq!(kept, 7 * 86_400, "kept 7 days: {view}");
    view
}

/// Reads the export until it is no longer pending (bounded); answers it.
async fn ready(admin: &User, org: &str, id: &str) -> Value {
    let path = format!("{}/{id}", exports_path(org));
    for _ in 0..150 {
        let view = admin.get(&path).await.ok(200).clone();
        if view["status"] != "pending" {
            return view;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("export {id} still pending after 30 s: {}", admin.get(&path).await.text);
}

/// Asks for an export and waits until it is ready; answers the ready view.
async fn built(admin: &User, org: &str, body: Value) -> Value {
    let asked = request(admin, org, body).await;
    let id = asked["id"].as_str().unwrap();
    let view = ready(admin, org, id).await;
    assert_eq!(view["status"], "ready", "{view}");
    assert!(view.get("failure").is_none(), "{view}");
    assert_eq!(view["created_at"], asked["created_at"]);
    assert_eq!(view["file_name"], asked["file_name"]);
    assert!(view["ready_at"].as_str().unwrap() >= view["created_at"].as_str().unwrap(), "{view}");
    view
}

/// Downloads a ready export through its URL (no credentials, as a browser would) and
/// checks what the URL and the answer promise: 15 minutes, the type, the file's name
/// (RFC 5987 for the Cyrillic), the size. Answers the bytes.
async fn download(view: &Value, content_type: &str) -> Vec<u8> {
    let url = view["download_url"].as_str().expect("a download URL");
    let q = query(url);
    assert_eq!(q.get("X-Amz-Expires").map(String::as_str), Some("900"), "{url}");
    assert_eq!(q.get("response-content-type").map(String::as_str), Some(content_type), "{url}");
    let expires = unix(&view["url_expires_at"]) - now();
    assert!((840..=960).contains(&expires), "the URL expires in {expires} s");

    let resp = client().get(url).send().await.expect("GET from the emulator");
    assert_eq!(resp.status().as_u16(), 200, "{url}");
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("the body").to_vec();
    let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(h("content-type"), content_type);
    let disposition = h("content-disposition");
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    let fallback = disposition.split("filename=\"").nth(1).and_then(|s| s.split('"').next()).expect(&disposition);
    assert!(!fallback.is_empty() && fallback.is_ascii(), "an ASCII fallback: {disposition}");
    let encoded = disposition.split("filename*=UTF-8''").nth(1).expect(&disposition);
    let encoded = encoded.split(';').next().unwrap().trim();
    assert!(
        encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"%!#$&+-.^_`|~".contains(&b)),
        "percent-encoded: {encoded}"
    );
    assert_eq!(percent_decode(encoded), view["file_name"].as_str().unwrap(), "{disposition}");
    assert_eq!(view["size"].as_u64(), Some(body.len() as u64), "the size is the file's");
    body
}

/// A CSV file read as a spreadsheet would: after the BOM, with `delimiter`, quotes per RFC
/// 4180, rows of any width. Checks the line ends are CRLF (there are no line breaks
/// inside the cells of these files).
fn read_csv(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    assert!(bytes.starts_with(BOM), "a UTF-8 BOM first: {:?}", &bytes[..bytes.len().min(8)]);
    let text = std::str::from_utf8(&bytes[BOM.len()..]).expect("UTF-8");
    assert!(text.ends_with("\r\n"), "{text:?}");
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "CRLF line ends only: {text:?}");
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(text.as_bytes());
    let rows: Vec<Vec<String>> =
        reader.records().map(|r| r.expect("a CSV record").iter().map(String::from).collect()).collect();
    assert_eq!(rows.len(), text.matches("\r\n").count(), "one line a row");
    rows
}

/// An RFC 3339 time as the CSV writes it: `YYYY-MM-DD HH:MM:SS` (UTC).
fn csv_time(t: &Value) -> String {
    t.as_str().expect("a time")[..19].replace('T', " ")
}

/// The zip members of an XLSX file.
fn unzip(bytes: &[u8]) -> HashMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX is a zip");
    let mut files = HashMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut text = String::new();
        if f.read_to_string(&mut text).is_ok() {
            files.insert(f.name().expect("a member's name").to_string(), text);
        }
    }
    files
}

/// A workbook opened with a spreadsheet reader.
fn workbook(bytes: &[u8]) -> calamine::Xlsx<std::io::Cursor<Vec<u8>>> {
    calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a workbook calamine opens")
}

fn sheet(book: &mut calamine::Xlsx<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let range = book.worksheet_range(name).unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    assert_eq!(range.start(), Some((0, 0)), "the sheet starts at A1");
    range.rows().map(|r| r.to_vec()).collect()
}

fn text_cells(row: &[calamine::Data]) -> Vec<String> {
    row.iter()
        .map(|c| match c {
            calamine::Data::String(s) => s.clone(),
            other => panic!("a text cell, not {other:?}"),
        })
        .collect()
}

/// A date cell's time as Unix seconds (Excel keeps no zone: the file's times are UTC).
fn excel_unix(cell: &calamine::Data) -> i64 {
    let calamine::Data::DateTime(d) = cell else { panic!("a date cell, not {cell:?}") };
    assert!(d.is_datetime(), "{d:?}");
    let (y, mo, day, h, mi, s, ms) = d.to_ymd_hms_milli();
    let date = time::Date::from_calendar_date(y.into(), time::Month::try_from(mo).unwrap(), day).unwrap();
    let at = date.with_hms_milli(h, mi, s, ms).unwrap().assume_utc();
    (at.unix_timestamp_nanos() as f64 / 1e9).round() as i64
}

/// A date cell's day, `YYYY-MM-DD`.
fn excel_day(cell: &calamine::Data) -> String {
    let calamine::Data::DateTime(d) = cell else { panic!("a date cell, not {cell:?}") };
    let (y, mo, day, h, mi, s, _) = d.to_ymd_hms_milli();
    assert_eq!((h, mi, s), (0, 0, 0), "a day, no time");
    format!("{y:04}-{mo:02}-{day:02}")
}

fn number(cell: &calamine::Data) -> u64 {
    match cell {
        calamine::Data::Float(f) => *f as u64,
        calamine::Data::Int(i) => *i as u64,
        other => panic!("a number cell, not {other:?}"),
    }
}

/// The attribute `name` of the first element that `tag` starts (`<c r="A1"`).
fn attr_of<'a>(xml: &'a str, tag: &str, name: &str) -> Option<&'a str> {
    let at = xml.find(tag)?;
    let element = &xml[at..at + xml[at..].find('>')?];
    let from = element.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&element[from..from + element[from..].find('"')?])
}

/// Whether cell `cell` of a sheet's XML is bold, through its style in `styles.xml`.
fn is_bold(sheet_xml: &str, styles: &str, cell: &str) -> bool {
    let style: usize = attr_of(sheet_xml, &format!("<c r=\"{cell}\""), "s").unwrap_or("0").parse().unwrap();
    let section = |name: &str| {
        let start = styles.find(&format!("<{name}")).unwrap_or_else(|| panic!("<{name}> in styles"));
        let end = styles[start..].find(&format!("</{name}>")).unwrap() + start;
        &styles[start..end]
    };
    let xf = section("cellXfs").split("<xf ").nth(style + 1).expect("the cell's style");
    let font: usize = attr_of(&format!("<xf {xf}"), "<xf ", "fontId").unwrap_or("0").parse().unwrap();
    let font = section("fonts").split("<font>").nth(font + 1).expect("the style's font");
    font.contains("<b/>")
}

/// The teachers and staff (and the founding director) of a school with class 5А, some
/// of their activity, and a student and a parent who are no rows of the employees.
struct Staffroom {
    admin: User,
    org: String,
    deputy: User,
    pupil: User,
    guardian: User,
}

async fn staffroom(admin: User) -> Staffroom {
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let class = classes[0].as_str();
    let evil = enrol(&admin, &org, EVIL, json!([teacher("Учитель информатики", &[class])])).await;
    let deputy =
        enrol(&admin, &org, "Пётр Ильич «Завуч»", json!([{"role": "staff", "position": TRICKY_POSITION}])).await;
    let pupil = enrol(&admin, &org, "Ученик Петров", json!([student(class)])).await;
    let guardian = enrol(&admin, &org, "Родитель Петрова", json!([parent(&[class])])).await;
    // The teacher posts in a group and makes an announcement: counts to find in the file.
    let group = support::new_group(&admin, &org, "Кружок").await["id"].as_str().unwrap().to_string();
    support::add_to_group(&admin, &org, &group, &[&evil, &pupil]).await;
    let g = format!("/v1/orgs/{org}/groups/{group}");
    evil.post(&format!("{g}/threads"), json!({"title": "Тема", "body": "Текст"})).await.ok(201);
    evil.post(&format!("{g}/announcements"), json!({"title": "Важно", "body": "Текст"})).await.ok(201);
    pupil.get(&format!("/v1/orgs/{org}")).await.ok(200);
    Staffroom { admin, org, deputy, pupil, guardian }
}

/// The employees' statistics as the API shows them, by name.
async fn employees_by_name(admin: &User, org: &str) -> HashMap<String, Value> {
    let (items, _) = all_pages(admin, &format!("/v1/orgs/{org}/stats/employees")).await;
    items.into_iter().map(|i| (i["name"].as_str().unwrap().to_string(), i)).collect()
}

/// Checks the employees' rows of a CSV (header first) against the API's statistics.
fn check_employee_rows(rows: &[Vec<String>], header: &[&str], s: &Staffroom, stats: &HashMap<String, Value>) {
    assert_eq!(rows[0], header);
    let data = &rows[1..];
    assert_eq!(data.len(), 3, "the director, the teacher and the deputy: {data:?}");
    let by_name: HashMap<&str, &Vec<String>> = data.iter().map(|r| (r[0].as_str(), r)).collect();
    assert!(!by_name.contains_key(s.pupil.name.as_str()) && !by_name.contains_key(s.guardian.name.as_str()));
    // The name a spreadsheet would run, made text with an apostrophe; Cyrillic intact.
    let evil = *by_name.get(format!("'{EVIL}").as_str()).unwrap_or_else(|| panic!("the teacher's row: {data:?}"));
    let deputy = by_name[s.deputy.name.as_str()];
    let director = by_name[s.admin.name.as_str()];
    for (row, name) in [(evil, EVIL), (deputy, s.deputy.name.as_str()), (director, s.admin.name.as_str())] {
        assert_eq!(row.len(), 10, "{row:?}");
        let e = &stats[name];
        assert_eq!(row[2], e["position"].as_str().unwrap_or(""), "{row:?}");
        assert_eq!(row[4], csv_time(&e["joined_at"]), "{row:?}");
        let last = if e["last_active_at"].is_null() { String::new() } else { csv_time(&e["last_active_at"]) };
        assert_eq!(row[5], last, "{row:?}");
        let figures = [&e["active_days_30"], &e["posts"], &e["announcements"], &e["files"]];
        assert_eq!(row[6..], figures.map(|f| f.as_u64().unwrap().to_string()), "{row:?}");
    }
    assert_eq!(evil[2], "Учитель информатики");
    assert_eq!(evil[3], "5А", "the class's name");
    assert_eq!(evil[7..9], ["1", "1"], "a post and an announcement");
    assert_eq!(deputy[2], TRICKY_POSITION, "quoted and read back whole");
    assert_eq!(deputy[3], "");
    assert_eq!(director[6], "1", "the director is active today");
}

#[tokio::test]
async fn the_employees_as_csv_open_in_excel_with_cyrillic_intact_and_formulas_as_text() {
    support::start_exporter().await;
    let s = staffroom(User::new("Директор Петрова")).await;
    let (admin, org) = (&s.admin, s.org.as_str());
    admin.patch(&format!("/v1/orgs/{org}"), json!({"short_name": "Гимназия №5 «Росток»"})).await.ok(200);
    let stats = employees_by_name(admin, org).await;

    let view = built(admin, org, json!({"kind": "employees", "format": "csv"})).await;
    let day = view["created_at"].as_str().unwrap()[..10].to_string();
    assert_eq!(view["file_name"], format!("kabinet-Гимназия-5-Росток-employees-{day}.csv"));
    assert_eq!(view["delimiter"], ";");
    assert_eq!(view["requested_by_name"], "Директор Петрова");
    let bytes = download(&view, CSV_TYPE).await;
    let rows = read_csv(&bytes, b';');
    check_employee_rows(&rows, &EMPLOYEES_RU, &s, &stats);
    assert_eq!(view["rows"].as_u64(), Some(rows.len() as u64 - 1), "data rows, the header not counted");
    let roles: HashMap<&str, &str> = rows[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(roles[format!("'{EVIL}").as_str()], "учитель");
    assert_eq!(roles[s.deputy.name.as_str()], "сотрудник");
    assert_eq!(roles[s.admin.name.as_str()], "сотрудник, администратор");
    // In the file itself: the formula's quotes doubled inside a quoted cell, the `;` of
    // the position quoted.
    let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
    assert!(text.contains("\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"Жми\"\")\""), "{text}");
    assert!(text.contains("\"Завуч; по \"\"УВР\"\"\""), "{text}");
    // Every text cell quoted, the header's too.
    assert!(text.starts_with(&format!("\"{}\"\r\n", EMPLOYEES_RU.join("\";\""))), "{text}");

    // A new URL on each read.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let again = admin.get(&format!("{}/{}", exports_path(org), view["id"].as_str().unwrap())).await.ok(200).clone();
    assert_ne!(again["download_url"], view["download_url"]);
    assert!(unix(&again["url_expires_at"]) > unix(&view["url_expires_at"]));
    assert_eq!(download(&again, CSV_TYPE).await, bytes);
}

#[tokio::test]
async fn the_employees_as_csv_with_commas_on_request() {
    support::start_exporter().await;
    let s = staffroom(User::new("Директор Запятая")).await;
    let stats = employees_by_name(&s.admin, &s.org).await;
    let view = built(&s.admin, &s.org, json!({"kind": "employees", "format": "csv", "delimiter": ","})).await;
    assert_eq!(view["delimiter"], ",");
    assert_eq!(
        view["file_name"],
        format!("kabinet-Школа-employees-{}.csv", &view["created_at"].as_str().unwrap()[..10])
    );
    let bytes = download(&view, CSV_TYPE).await;
    let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
    assert!(text.starts_with(&format!("\"{}\"\r\n", EMPLOYEES_RU.join("\",\""))), "{text}");
    let rows = read_csv(&bytes, b',');
    check_employee_rows(&rows, &EMPLOYEES_RU, &s, &stats);
    assert_eq!(view["rows"], 3);
    // With commas, the director's roles ("сотрудник, администратор") are quoted.
    assert!(text.contains("\"сотрудник, администратор\""), "{text}");
}

/// The employees' files list the journal's teachers and staff who have not joined, after
/// the members, with the same columns: empty where they have nothing yet, activity 0.
#[tokio::test]
async fn the_employees_files_list_the_journals_teachers_and_staff_who_have_not_joined() {
    use kabinet_tests::support::{class_row, enrollment_row, run, unique_email, user_row};
    support::start_exporter().await;
    let admin = User::new("Директор Журнальная");
    let org = admin.create_org("Школа").await;
    let users = [
        user_row("t1", "teacher", "Анна", "Иванова", "t.ivanova", &unique_email("export-t1"), ""),
        user_row("a1", "aide", "Борис", "Петров", "b.petrov", "", ""),
        user_row("s1", "student", "Пётр", "Смирнов", "p.smirnov", "", ""),
    ];
    let enrollments = [enrollment_row("e1", "c5a", "t1", "teacher", true)];
    run(&admin, &org, &[class_row("c5a", "5А")], &users, &enrollments, false).await;

    let view = built(&admin, &org, json!({"kind": "employees", "format": "csv"})).await;
    assert_eq!(view["rows"], 3, "the director, then the teacher and the aide: {view}");
    let rows = read_csv(&download(&view, CSV_TYPE).await, b';');
    assert_eq!(rows[0], EMPLOYEES_RU);
    assert_eq!(rows[1][0], admin.name, "the members first");
    let zero = ["0", "0", "0", "0"].map(String::from);
    let waiting = |row: &Vec<String>| (row[4..6].to_vec(), row[6..].to_vec());
    assert_eq!(rows[2][..4], ["Петров Борис", "сотрудник", "Ассистент", ""], "{rows:?}");
    assert_eq!(rows[3][..4], ["Иванова Анна", "учитель", "Учитель", "5А"], "{rows:?}");
    for row in &rows[2..] {
        assert_eq!(waiting(row), (vec![String::new(), String::new()], zero.to_vec()), "{row:?}");
    }

    let view = built(&admin, &org, json!({"kind": "employees", "format": "xlsx"})).await;
    let mut book = workbook(&download(&view, XLSX_TYPE).await);
    let rows = sheet(&mut book, "Сотрудники");
    assert_eq!(rows.len(), 4, "the header and three employees: {rows:?}");
    assert_eq!(rows[3][0], calamine::Data::String("Иванова Анна".into()));
    assert!(matches!(rows[3][4], calamine::Data::Empty), "no date joined: {:?}", rows[3]);
    assert_eq!(rows[3][6], calamine::Data::Float(0.0), "{:?}", rows[3]);
}

/// Names a spreadsheet would run: whole, or once a reader cuts them at a separator.
const FORMULA_NAMES: [(&str, &str); 4] = [
    ("Иван,=1+1", "Иван,'=1+1"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
];

/// Whether a cell starts as a formula would (spaces before it trimmed, as some readers do).
fn formula_start(cell: &str) -> bool {
    cell.trim_start_matches(' ').starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test]
async fn no_csv_cell_becomes_a_formula_whichever_separator_the_reader_splits_on() {
    support::start_exporter().await;
    let admin = User::new("Директор");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    for (name, _) in FORMULA_NAMES {
        enrol(&admin, &org, name, json!([teacher("Учитель, =2+2", &[&classes[0]])])).await;
    }
    for delimiter in [";", ","] {
        let view = built(&admin, &org, json!({"kind": "employees", "format": "csv", "delimiter": delimiter})).await;
        let bytes = download(&view, CSV_TYPE).await;
        // Split on either separator (Excel in another locale): no cell starts as a formula,
        // and the row's first cell, quoted from its first character, keeps the whole name.
        for split in [b',', b';'] {
            let rows = read_csv(&bytes, split);
            for cell in rows.iter().flatten() {
                assert!(!formula_start(cell), "{delimiter} file split on {}: {cell:?}", split as char);
            }
            for (_, guarded) in FORMULA_NAMES {
                assert!(rows.iter().any(|r| r[0].starts_with(guarded)), "{guarded} cut: {rows:?}");
            }
        }
        // Split on the file's own separator: every name whole, made text.
        let own = read_csv(&bytes, delimiter.as_bytes()[0]);
        let mut names: Vec<&str> = own[1..].iter().map(|r| r[0].as_str()).collect();
        names.sort_unstable();
        let mut expected: Vec<&str> = FORMULA_NAMES.iter().map(|(_, g)| *g).chain(["Директор"]).collect();
        expected.sort_unstable();
        assert_eq!(names, expected, "{delimiter}");
        assert!(own[1..].iter().all(|r| r.len() == 10), "{own:?}");
        assert!(own[1..].iter().filter(|r| r[0] != "Директор").all(|r| r[2] == "Учитель, '=2+2"), "{own:?}");
        // In the file: each name quoted, whatever the separator.
        let text = std::str::from_utf8(&bytes[BOM.len()..]).unwrap();
        for (_, guarded) in FORMULA_NAMES {
            assert!(text.contains(&format!("\"{}\"", guarded.replace('"', "\"\""))), "{guarded} quoted: {text}");
        }
    }
}

#[tokio::test]
async fn the_employees_as_xlsx_have_a_frozen_bold_header_real_dates_and_no_formulas() {
    support::start_exporter().await;
    let s = staffroom(User::new("Директор Таблицына")).await;
    let (admin, org) = (&s.admin, s.org.as_str());
    let stats = employees_by_name(admin, org).await;
    let view = built(admin, org, json!({"kind": "employees", "format": "xlsx"})).await;
    assert!(view.get("delimiter").is_none(), "{view}");
    assert_eq!(
        view["file_name"],
        format!("kabinet-Школа-employees-{}.xlsx", &view["created_at"].as_str().unwrap()[..10])
    );
    assert_eq!(view["rows"], 3);
    let bytes = download(&view, XLSX_TYPE).await;

    let mut book = workbook(&bytes);
    assert_eq!(calamine::Reader::sheet_names(&book), ["Сотрудники"]);
    let rows = sheet(&mut book, "Сотрудники");
    assert_eq!(text_cells(&rows[0]), EMPLOYEES_RU);
    assert_eq!(rows.len(), 4, "the header and three employees: {rows:?}");
    let find = |name: &str| {
        rows[1..]
            .iter()
            .find(|r| r[0] == calamine::Data::String(name.into()))
            .unwrap_or_else(|| panic!("{name}'s row: {rows:?}"))
    };
    // As typed: text, no apostrophe (a workbook's text cell is never a formula).
    let evil = find(EVIL);
    assert_eq!(evil[1], calamine::Data::String("учитель".into()));
    assert_eq!(evil[3], calamine::Data::String("5А".into()));
    assert!((excel_unix(&evil[4]) - unix(&stats[EVIL]["joined_at"])).abs() <= 1, "joined, as a date cell");
    assert!((excel_unix(&evil[5]) - unix(&stats[EVIL]["last_active_at"])).abs() <= 1, "last active, a date cell");
    assert_eq!([number(&evil[6]), number(&evil[7]), number(&evil[8]), number(&evil[9])], [1, 1, 1, 0]);
    let deputy = find(&s.deputy.name);
    assert_eq!(deputy[2], calamine::Data::String(TRICKY_POSITION.into()));
    // An empty text cell reads back as an empty cell.
    assert!(matches!(&deputy[3], calamine::Data::Empty) || deputy[3] == calamine::Data::String(String::new()));
    assert_eq!(deputy[5], calamine::Data::Empty, "never active in the organization");
    assert_eq!(number(&deputy[6]), 0);
    let director = find(&s.admin.name);
    assert_eq!(director[1], calamine::Data::String("сотрудник, администратор".into()));
    let last = excel_unix(&director[5]);
    assert!((last - unix(&stats[&s.admin.name]["last_active_at"])).abs() <= 1, "last active, as a date cell");
    assert_eq!(number(&director[6]), 1);
    assert!(!rows.iter().any(|r| r[0] == calamine::Data::String(s.pupil.name.clone())));

    // Under the reader: the header frozen and bold, widths set, strings inline, no formula.
    let files = unzip(&bytes);
    let xml = &files["xl/worksheets/sheet1.xml"];
    let pane = xml.find("<pane ").map(|at| &xml[at..at + xml[at..].find("/>").unwrap()]).expect("a pane");
    assert!(pane.contains("ySplit=\"1\"") && pane.contains("state=\"frozen\""), "{pane}");
    assert!(xml.contains("<cols>") && xml.contains("<col "), "column widths");
    assert!(xml.contains("t=\"inlineStr\""), "inline strings");
    assert!(!xml.contains("<f>") && !xml.contains("<f "), "no formula: {xml}");
    assert!(xml.contains("HYPERLINK"), "the name is there, as text");
    let styles = &files["xl/styles.xml"];
    for cell in ["A1", "J1"] {
        assert!(is_bold(xml, styles, cell), "{cell} bold");
    }
    assert!(!is_bold(xml, styles, "A2"), "the rows are not bold");
}

/// The summary's 17 figures by their Russian names, from `GET /stats/summary`.
fn figures(summary: &Value) -> Vec<(&'static str, u64)> {
    let n = |v: &Value| v.as_u64().unwrap_or_else(|| panic!("a count: {v}"));
    let m = &summary["members"];
    vec![
        ("Участники", n(&m["total"])),
        ("Администраторы", n(&m["admins"])),
        ("Роль: учитель", n(&m["by_role"]["teacher"])),
        ("Роль: сотрудник", n(&m["by_role"]["staff"])),
        ("Роль: ученик", n(&m["by_role"]["student"])),
        ("Роль: родитель", n(&m["by_role"]["parent"])),
        ("Классы", n(&summary["classes"])),
        ("Группы", n(&summary["groups"])),
        ("Курсы", n(&summary["courses"])),
        ("Заявки на вступление (ожидают)", n(&summary["pending_join_requests"])),
        ("Действующие ссылки-приглашения", n(&summary["invite_links"]["active"])),
        ("Вступлений по действующим ссылкам", n(&summary["invite_links"]["uses"])),
        ("Приглашения по почте (ожидают)", n(&summary["invitations"]["pending"])),
        ("Файлы", n(&summary["files"]["count"])),
        ("Файлы, байт", n(&summary["files"]["bytes"])),
        ("Активны за 7 дней", n(&summary["active_7d"])),
        ("Активны за 30 дней", n(&summary["active_30d"])),
    ]
}

/// The 30 days before and including `today`, oldest first.
fn last_30_days(today: &str) -> Vec<String> {
    let today = Timestamp::parse(&format!("{today}T12:00:00Z")).unwrap();
    (0..30).rev().map(|back| today.plus(time::Duration::days(-back)).day()).collect()
}

#[tokio::test]
async fn the_summary_as_csv_and_xlsx_has_the_figures_the_api_shows_and_30_days() {
    support::start_exporter().await;
    let c = circle("Хор").await;
    let (admin, org) = (&c.admin, c.org.as_str());
    let o = format!("/v1/orgs/{org}");
    // Something of everything the summary counts.
    enrol(admin, org, "Родитель", json!([parent(&[&c.class])])).await;
    admin.post(&format!("{o}/courses"), json!({"name": "История"})).await.ok(201);
    let expires = Timestamp::now().plus(time::Duration::days(30)).to_string();
    let link = admin
        .post(
            &format!("{o}/invite-links"),
            json!({"expires_at": expires, "max_uses": 5, "roles": [teacher("Учитель", &[])]}),
        )
        .await
        .ok(201)["token"]
        .as_str()
        .unwrap()
        .to_string();
    registered("Кандидат").await.post(&format!("/v1/invite-links/{link}/accept"), json!({})).await.ok(201);
    let invite = json!({"emails": ["someone@parents.test"], "role": parent(&[&c.class])});
    admin.post(&format!("{o}/invitations"), invite).await.ok(200);
    support::upload(&c, &c.teacher, "План.txt", b"plan of the year".to_vec(), "text/plain").await;
    c.teacher.get(&o).await.ok(200);

    let summary = admin.get(&format!("{o}/stats/summary")).await.ok(200).clone();
    let expected = figures(&summary);
    assert_eq!(expected[0], ("Участники", 5), "{summary}");
    assert_eq!(expected[13..15], [("Файлы", 1), ("Файлы, байт", 16)], "{summary}");
    assert_eq!(expected[9..13].iter().map(|f| f.1).collect::<Vec<_>>(), [1, 1, 1, 1], "{summary}");
    let today_before = Timestamp::now().day();
    let csv_view = built(admin, org, json!({"kind": "summary", "format": "csv"})).await;
    let xlsx_view = built(admin, org, json!({"kind": "summary", "format": "xlsx"})).await;
    let today_after = Timestamp::now().day();
    let day = csv_view["created_at"].as_str().unwrap()[..10].to_string();
    assert_eq!(csv_view["file_name"], format!("kabinet-Школа-summary-{day}.csv"));

    // The CSV: the figures, a blank row, then the days, oldest first.
    let rows = read_csv(&download(&csv_view, CSV_TYPE).await, b';');
    assert_eq!(rows[0], ["Показатель", "Значение"]);
    assert_eq!(rows[1][0], "На момент (UTC)");
    let as_of = Timestamp::parse(&format!("{}Z", rows[1][1].replace(' ', "T"))).expect("a time as Excel reads it");
    assert!(as_of.unix() >= unix(&csv_view["created_at"]) - 1 && as_of.unix() <= unix(&csv_view["ready_at"]) + 1);
    let got: Vec<(&str, u64)> = rows[2..19].iter().map(|r| (r[0].as_str(), r[1].parse().unwrap())).collect();
    assert_eq!(got, expected);
    assert_eq!(rows[19], ["", ""], "a blank row between the tables");
    assert_eq!(rows[20], ["День", "Активных участников"]);
    let days: Vec<String> = rows[21..].iter().map(|r| r[0].clone()).collect();
    assert_eq!(days.len(), 30, "{rows:?}");
    let today = days.last().unwrap().clone();
    assert!(today == today_before || today == today_after, "today last: {today}");
    assert_eq!(days, last_30_days(&today), "30 days, oldest first");
    let active: Vec<u64> = rows[21..].iter().map(|r| r[1].parse().unwrap()).collect();
    assert!(active[29] >= 2, "the director and the teacher came today: {active:?}");
    assert_eq!(csv_view["rows"].as_u64(), Some(1 + 17 + 30));
    assert_eq!(rows.len(), 1 + 1 + 17 + 1 + 1 + 30, "both headers and the blank row are not data rows");

    // The workbook: the same figures in two sheets, the days as dates, and a chart of them.
    assert_eq!(xlsx_view["file_name"], format!("kabinet-Школа-summary-{day}.xlsx"));
    assert_eq!(xlsx_view["rows"].as_u64(), Some(48));
    let bytes = download(&xlsx_view, XLSX_TYPE).await;
    let mut book = workbook(&bytes);
    assert_eq!(calamine::Reader::sheet_names(&book), ["Сводка", "Активны по дням"]);
    let figures_sheet = sheet(&mut book, "Сводка");
    assert_eq!(text_cells(&figures_sheet[0]), ["Показатель", "Значение"]);
    assert_eq!(figures_sheet[1][0], calamine::Data::String("На момент (UTC)".into()));
    assert!((excel_unix(&figures_sheet[1][1]) - unix(&xlsx_view["ready_at"])).abs() <= 60, "as of: a date cell");
    let got: Vec<(String, u64)> =
        figures_sheet[2..].iter().map(|r| (text_cells(&r[..1])[0].clone(), number(&r[1]))).collect();
    let expected_owned: Vec<(String, u64)> = expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(got, expected_owned);
    let days_sheet = sheet(&mut book, "Активны по дням");
    assert_eq!(text_cells(&days_sheet[0]), ["День", "Активных участников"]);
    assert_eq!(days_sheet.len(), 31, "the header and 30 days");
    let xdays: Vec<String> = days_sheet[1..].iter().map(|r| excel_day(&r[0])).collect();
    let xtoday = xdays.last().unwrap().clone();
    assert!(xtoday == today_before || xtoday == today_after, "today last: {xtoday}");
    assert_eq!(xdays, last_30_days(&xtoday));
    assert!(number(&days_sheet[30][1]) >= 2);

    let files = unzip(&bytes);
    let chart = files.get("xl/charts/chart1.xml").expect("a chart");
    assert!(chart.contains("<c:barDir val=\"col\"/>"), "a column chart: {chart}");
    assert!(chart.contains("$B$2:$B$31") && chart.contains("$A$2:$A$31"), "of the 30 days: {chart}");
    assert!(chart.contains("Активны по дням"), "{chart}");
    assert!(files["xl/worksheets/sheet2.xml"].contains("<drawing "), "on the days' sheet");
    assert!(!files["xl/worksheets/sheet1.xml"].contains("<drawing "));
    assert!(files["xl/drawings/_rels/drawing1.xml.rels"].contains("charts/chart1.xml"));
    for sheet in ["sheet1", "sheet2"] {
        let xml = &files[&format!("xl/worksheets/{sheet}.xml")];
        assert!(xml.contains("state=\"frozen\"") && xml.contains("<cols>"), "{sheet}");
    }

    // Both listed, newest first, each with its own download URL.
    let (listed, _) = all_pages(admin, &exports_path(org)).await;
    let ids: Vec<&str> = listed.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [xlsx_view["id"].as_str().unwrap(), csv_view["id"].as_str().unwrap()]);
    for e in &listed {
        assert_eq!(e["status"], "ready");
        assert!(query(e["download_url"].as_str().unwrap()).contains_key("X-Amz-Signature"), "{e}");
    }
}

/// The "export ready" emails to `to` so far.
fn ready_mail(mail: Vec<Value>) -> Vec<Value> {
    mail.into_iter()
        .filter(|m| {
            let subject = m["subject"].as_str().unwrap_or("");
            subject.starts_with("Выгрузка готова") || subject.starts_with("Your export is ready")
        })
        .collect()
}

/// Waits (bounded) for the first "export ready" email to `to`; then a moment more, to
/// see no second one comes.
async fn the_ready_mail(to: &str) -> Vec<Value> {
    for _ in 0..150 {
        if !ready_mail(mail_to(to).await).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    ready_mail(mail_to(to).await)
}

#[tokio::test]
async fn the_admin_who_asked_gets_one_email_with_a_link_to_the_export_not_to_the_file() {
    support::start_exporter().await;
    let admin = User::new("Директор Почтова");
    let org = admin.create_org("Лицей №2").await;
    let other_admin = enrol(&admin, &org, "Второй директор", json!([teacher("Завуч", &[])])).await;
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", other_admin.sub), None, &[]).await.ok(200);
    let view = built(&admin, &org, json!({"kind": "summary", "format": "xlsx"})).await;
    let id = view["id"].as_str().unwrap();
    // Read again: no more mail for that.
    admin.get(&format!("{}/{id}", exports_path(&org))).await.ok(200);

    let mail = the_ready_mail(&admin.email).await;
    assert_eq!(mail.len(), 1, "one email: {mail:?}");
    let m = &mail[0];
    assert_eq!(m["subject"], "Выгрузка готова: сводная статистика — Лицей №2");
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    let link = format!("http://localhost:5173/orgs/{org}/exports/{id}");
    assert!(text.contains(&link), "a link to the export's page: {text}");
    // The HTML escapes `/` in attributes as `&#x2f;`, which a browser reads back as `/`.
    let html_unescaped = html.replace("&#x2f;", "/");
    assert!(html_unescaped.contains(&format!("href=\"{link}\"")), "{html}");
    assert!(text.contains("Здравствуйте, Директор Почтова!") && text.contains("XLSX"), "{text}");
    assert!(text.contains(&view["expires_at"].as_str().unwrap()[..10]), "kept until: {text}");
    let endpoint = &support::env().await.endpoint;
    for body in [text, html, html_unescaped.as_str()] {
        assert!(!body.contains("X-Amz") && !body.contains(endpoint.as_str()), "no signed URL: {body}");
        assert!(!body.contains(&format!("{id}.xlsx")), "no object key: {body}");
    }
    assert!(ready_mail(mail_to(&other_admin.email).await).is_empty(), "only the admin who asked");
}

#[tokio::test]
async fn an_english_speaking_admin_gets_english_headers_and_an_english_email() {
    support::start_exporter().await;
    let admin = User::new("Head Teacher");
    admin.patch("/v1/me", json!({"language": "en"})).await.ok(200);
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    enrol(&admin, &org, "Jane Smith", json!([teacher("Teacher", &[&classes[0]])])).await;
    enrol(&admin, &org, "Pupil", json!([student(&classes[0])])).await;

    let view = built(&admin, &org, json!({"kind": "employees", "format": "csv"})).await;
    let rows = read_csv(&download(&view, CSV_TYPE).await, b';');
    assert_eq!(rows[0], EMPLOYEES_EN);
    let by_name: HashMap<&str, &Vec<String>> = rows[1..].iter().map(|r| (r[0].as_str(), r)).collect();
    assert_eq!(by_name.len(), 2, "{rows:?}");
    assert_eq!(by_name["Head Teacher"][1], "staff, admin");
    assert_eq!((by_name["Jane Smith"][1].as_str(), by_name["Jane Smith"][3].as_str()), ("teacher", "5А"));

    let mail = the_ready_mail(&admin.email).await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["subject"], "Your export is ready: the employees' statistics of Школа");
    let text = mail[0]["text"].as_str().unwrap();
    assert!(text.contains(&format!("http://localhost:5173/orgs/{org}/exports/{}", view["id"].as_str().unwrap())));
    assert!(text.starts_with("Hello, Head Teacher!") && !text.contains("X-Amz"), "{text}");

    // The summary in English too.
    let view = built(&admin, &org, json!({"kind": "summary", "format": "csv", "delimiter": ","})).await;
    let rows = read_csv(&download(&view, CSV_TYPE).await, b',');
    assert_eq!(rows[0], ["Figure", "Value"]);
    assert_eq!(rows[1][0], "As of (UTC)");
    assert_eq!(rows[2][0], "Members");
    assert_eq!(rows[4][0], "Role: teacher");
    assert_eq!(rows[20], ["Day", "Active members"]);
}

#[tokio::test]
async fn only_admins_ask_for_and_read_exports_and_asking_is_checked_and_audited() {
    let admin = User::new("Директор Строгая");
    let (org, classes) = school(&admin, "2026/2027", &[(5, "А")]).await;
    let member = enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[&classes[0]])])).await;
    let pupil = enrol(&admin, &org, "Ученик", json!([student(&classes[0])])).await;
    let stranger = registered("Чужой").await;
    let list = exports_path(&org);

    // Validation.
    let refused = |body: Value| {
        let (admin, list) = (&admin, &list);
        async move {
            let r = admin.post(list, body).await;
            r.problem(422, "validation_failed");
            r.error_fields()
        }
    };
    assert_eq!(refused(json!({"kind": "everything", "format": "csv"})).await, ["kind"]);
    assert_eq!(refused(json!({"kind": "summary", "format": "pdf"})).await, ["format"]);
    assert_eq!(refused(json!({"kind": "summary", "format": "csv", "delimiter": "|"})).await, ["delimiter"]);
    assert_eq!(refused(json!({"kind": "summary", "format": "xlsx", "delimiter": ";"})).await, ["delimiter"]);
    assert_eq!(refused(json!({"kind": "summary", "format": "xlsx", "delimiter": ","})).await, ["delimiter"]);
    assert_eq!(refused(json!({"format": "csv"})).await, ["kind"]);
    assert_eq!(refused(json!({"kind": "summary", "format": "csv", "sheet": "x"})).await, ["sheet"]);
    assert_eq!(admin.get(&list).await.ok(200)["items"], json!([]), "nothing made by refused requests");

    // One export, asked for twice with the same Idempotency-Key: the same answer.
    let body = json!({"kind": "employees", "format": "xlsx"});
    let key = [("idempotency-key", "export-1")];
    let first = admin.call(Method::POST, &list, Some(body.clone()), &key).await;
    let second = admin.call(Method::POST, &list, Some(body), &key).await;
    let view = first.ok(202).clone();
    assert_eq!(second.ok(202), &view);
    assert_eq!(first.header("location"), Some(format!("{list}/{}", view["id"].as_str().unwrap()).as_str()));
    assert_eq!(second.header("location"), first.header("location"));
    let id = view["id"].as_str().unwrap().to_string();
    let one = format!("{list}/{id}");
    let listed = admin.get(&list).await.ok(200).clone();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], id.as_str());
    assert_eq!(admin.get(&one).await.ok(200)["id"], id.as_str());

    // Other members: 403; strangers: 404; on all three routes.
    let ask = json!({"kind": "summary", "format": "csv"});
    for who in [&member, &pupil] {
        who.post(&list, ask.clone()).await.problem(403, "forbidden");
        who.get(&list).await.problem(403, "forbidden");
        who.get(&one).await.problem(403, "forbidden");
    }
    stranger.post(&list, ask.clone()).await.problem(404, "not_found");
    stranger.get(&list).await.problem(404, "not_found");
    stranger.get(&one).await.problem(404, "not_found");
    // No export of that ID here; an ID that is no ID.
    let unknown = ulid::Ulid::new().to_string().to_lowercase();
    admin.get(&format!("{list}/{unknown}")).await.problem(404, "not_found");
    admin.get(&format!("{list}/not-an-id")).await.problem(404, "not_found");
    // Another organization's export, through this one.
    let other_org = admin.create_org("Другая школа").await;
    admin.get(&format!("{}/{id}", exports_path(&other_org))).await.problem(404, "not_found");
    assert_eq!(admin.get(&list).await.ok(200)["items"].as_array().unwrap().len(), 1, "none made by refusals");

    // The audit entry: who asked for what.
    let log = admin.get(&format!("/v1/orgs/{org}/audit?action=export.request")).await.ok(200).clone();
    let entries = log["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    let e = &entries[0];
    assert_eq!(e["action"], "export.request");
    assert_eq!(e["actor"], json!({"id": admin.sub, "name": "Директор Строгая"}));
    assert_eq!(e["target"], json!({"type": "export", "id": id}));
    assert_eq!(e["after"], json!({"kind": "employees", "format": "xlsx", "file_name": view["file_name"]}));
}

/// Takes building place `n` of `user` under the API, held until `until`.
async fn hold_place(org: &str, user: &User, n: u32, until: Timestamp) {
    let env = support::env().await;
    support::dynamodb()
        .await
        .put_item()
        .table_name(&env.config.table)
        .item("pk", AttributeValue::S(format!("ORG#{org}")))
        .item("sk", AttributeValue::S(format!("EXPORTSLOT#{}#{n}", user.sub)))
        .item("export_id", AttributeValue::S(ulid::Ulid::new().to_string().to_lowercase()))
        .item("held_until", AttributeValue::S(until.to_string()))
        .item("ttl", AttributeValue::N(until.plus(time::Duration::days(1)).unix().to_string()))
        .send()
        .await
        .unwrap();
}

/// The export a building place holds, if the place is there.
async fn place_holds(org: &str, user: &User, n: u32) -> Option<String> {
    let env = support::env().await;
    let item = support::dynamodb()
        .await
        .get_item()
        .table_name(&env.config.table)
        .key("pk", AttributeValue::S(format!("ORG#{org}")))
        .key("sk", AttributeValue::S(format!("EXPORTSLOT#{}#{n}", user.sub)))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item?;
    Some(item["export_id"].as_s().unwrap().clone())
}

fn in_an_hour() -> Timestamp {
    Timestamp::now().plus(time::Duration::hours(1))
}

#[tokio::test]
async fn an_admin_has_at_most_three_exports_building() {
    // No exporter here: nothing gives a place back but time. (The local emulator drops
    // stream records every running reader has read, so an exporter started later would
    // miss the exports asked for before it.)
    let admin = User::new("Директор Занятая");
    let org = admin.create_org("Школа").await;
    let second = enrol(&admin, &org, "Второй директор", json!([teacher("Завуч", &[])])).await;
    admin.call(Method::PUT, &format!("/v1/orgs/{org}/admins/{}", second.sub), None, &[]).await.ok(200);
    let list = exports_path(&org);
    let ask = json!({"kind": "summary", "format": "csv"});
    for n in 0..3 {
        hold_place(&org, &admin, n, in_an_hour()).await;
    }
    admin.post(&list, ask.clone()).await.problem(409, "export_in_progress");
    admin.post(&list, json!({"kind": "employees", "format": "xlsx"})).await.problem(409, "export_in_progress");
    assert_eq!(admin.get(&list).await.ok(200)["items"], json!([]));
    // Another admin's places are their own.
    second.post(&list, ask.clone()).await.ok(202);

    // A place held past its time is free again: taken by the new export.
    support::set_item_attr(&org, &format!("EXPORTSLOT#{}#1", admin.sub), "held_until", support::long_ago()).await;
    let view = request(&admin, &org, ask.clone()).await;
    let id = view["id"].as_str().unwrap();
    assert_eq!(place_holds(&org, &admin, 1).await.as_deref(), Some(id));
    admin.post(&list, ask).await.problem(409, "export_in_progress");
    let listed = admin.get(&list).await.ok(200).clone();
    let ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "the other admin's and this one: {listed}");
    assert_eq!(ids[0], id, "newest first");
}

#[tokio::test]
async fn a_built_export_gives_its_place_back() {
    support::start_exporter().await;
    let admin = User::new("Директор Терпеливая");
    let org = admin.create_org("Школа").await;
    enrol(&admin, &org, "Учитель", json!([teacher("Учитель", &[])])).await;
    hold_place(&org, &admin, 0, in_an_hour()).await;
    hold_place(&org, &admin, 2, in_an_hour()).await;
    let ask = json!({"kind": "employees", "format": "csv"});
    let first = request(&admin, &org, ask.clone()).await;
    let id = first["id"].as_str().unwrap();
    assert_eq!(ready(&admin, &org, id).await["status"], "ready");
    let mut freed = false;
    for _ in 0..50 {
        if place_holds(&org, &admin, 1).await.is_none() {
            freed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(freed, "the place is given back once the export is built");
    // The places held by others (here written under the API) stay as they were.
    assert!(place_holds(&org, &admin, 0).await.is_some() && place_holds(&org, &admin, 2).await.is_some());
    let next = request(&admin, &org, ask).await;
    assert_eq!(place_holds(&org, &admin, 1).await.as_deref(), next["id"].as_str());
}

#[tokio::test]
async fn four_requests_at_once_for_the_last_place_make_one_export() {
    // No exporter: the place taken stays taken while the requests race (nothing is built).
    let admin = User::new("Директор Спешная");
    let org = admin.create_org("Школа").await;
    let list = exports_path(&org);
    hold_place(&org, &admin, 0, in_an_hour()).await;
    hold_place(&org, &admin, 1, in_an_hour()).await;
    let asks = (0..4).map(|i| {
        let (admin, list) = (&admin, &list);
        let format = if i % 2 == 0 { "csv" } else { "xlsx" };
        async move { admin.post(list, json!({"kind": "summary", "format": format})).await }
    });
    let answers: Vec<Resp> = futures::future::join_all(asks).await;
    let made: Vec<&Resp> = answers.iter().filter(|r| r.status == 202).collect();
    assert_eq!(made.len(), 1, "{:?}", answers.iter().map(|r| (r.status, &r.text)).collect::<Vec<_>>());
    for r in answers.iter().filter(|r| r.status != 202) {
        r.problem(409, "export_in_progress");
    }
    let listed = admin.get(&list).await.ok(200).clone();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], made[0].body["id"]);
    assert_eq!(place_holds(&org, &admin, 2).await.as_deref(), made[0].body["id"].as_str());
    let audit = admin.get(&format!("/v1/orgs/{org}/audit?action=export.request")).await.ok(200).clone();
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "one audit entry: {audit}");
}

/// A file larger than a part leaves in parts of 5 MiB streamed from the file as it grows
/// (the last one smaller), and the object is the file, byte for byte.
#[tokio::test]
async fn a_large_export_leaves_in_five_mib_parts_streamed_from_its_file() {
    use kabinet::exports::upload::{ObjectWriter, PART_SIZE};
    use std::io::Write;

    let env = support::env().await;
    let aws = kabinet_local::emulator::sdk_config(&env.endpoint).await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&aws).force_path_style(true).build());
    let bucket = env.config.exports_bucket.clone();
    let key = format!("exports/test/{}.csv", ulid::Ulid::new());
    let tmp = tempfile::NamedTempFile::new().unwrap();
    let mut file = tmp.reopen().unwrap();
    let mut out = ObjectWriter::new(&s3, &bucket, &key, "text/csv; charset=utf-8", tmp.path());
    // 12 MiB and a bit, written in pieces, the writer told after each.
    let piece: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut written = 0u64;
    for _ in 0..12 {
        file.write_all(&piece).unwrap();
        file.flush().unwrap();
        written += piece.len() as u64;
        out.sync(written).await.unwrap();
    }
    file.write_all(b"the end").unwrap();
    file.flush().unwrap();
    written += 7;
    let (parts, _) = out.finish(written).await.unwrap();
    assert_eq!(parts, 3, "two parts of 5 MiB and the rest");
    let got = s3.get_object().bucket(&bucket).key(&key).send().await.unwrap();
    assert_eq!(got.content_type(), Some("text/csv; charset=utf-8"));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.len() as u64, written);
    assert_eq!(&body[..], &std::fs::read(tmp.path()).unwrap()[..]);
    assert!(written > 2 * PART_SIZE);
    // A file smaller than a part is one PUT.
    let small = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(small.path(), b"a;b\r\n").unwrap();
    let key = format!("exports/test/{}.csv", ulid::Ulid::new());
    let out = ObjectWriter::new(&s3, &bucket, &key, "text/csv; charset=utf-8", small.path());
    assert_eq!(out.finish(5).await.unwrap().0, 0);
    let body = s3.get_object().bucket(&bucket).key(&key).send().await.unwrap().body.collect().await.unwrap();
    assert_eq!(&body.into_bytes()[..], b"a;b\r\n");
}
