//! The exporter: builds each export whose insert the table's stream delivers. Rows flow
//! from paged queries into the format's writer, to a temporary file, and out to the
//! exports bucket in multipart-upload parts streamed from that file: memory holds a page
//! of members, never the file or a part, however large the organization. Then one
//! transaction makes the export ready with the event of its "export ready" email (the
//! notifier sends it), and the admin's building place is given back.
//!
//! A build that fails (the store, S3) is reported as a failed record and delivered
//! again, up to [`MAX_ATTEMPTS`] builds; then the export is failed with a reason for the
//! admin. A record delivered again after its export was built does nothing.
//!
//! A build is not resumed: 100,000 members take well inside the function's 300 s (about
//! 300,000 rows a second of its own time, `make bench-export`). A build cut off (a
//! timeout, a crash) leaves a multipart upload never completed, which nobody sees (the
//! bucket's lifecycle removes it), or an object not yet marked ready, which is never
//! served; the record delivered again builds the whole file anew, once, over the same key.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::ChangeRecord;
use crate::domain::classes::class_ids;
use crate::domain::exports::{Delimiter, MAX_ATTEMPTS};
use crate::domain::stats::Summary;
use crate::domain::{
    Export, ExportFormat, ExportId, ExportKind, Language, Membership, OrgId, OutboxEvent, Role, Timestamp,
};
use crate::exports::csv::CsvSink;
use crate::exports::upload::ObjectWriter;
use crate::exports::xlsx::{SeriesChart, XlsxSink};
use crate::exports::Cell;
use crate::mail::role_name;
use crate::page::PageQuery;
use crate::store::exports::Outcome;
use crate::store::keys::EXPORT_PREFIX;
use crate::store::orgs::{Also, SummaryDays};
use crate::Ctx;

/// How many members a page of the employees' query reads.
pub const PAGE: i32 = 1000;

/// What the admin reads when an export could not be built.
pub const NOT_BUILT: &str = "The export could not be built; please request it again.";

/// What one build did, and where its time went.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub rows: u64,
    pub size: u64,
    /// S3 parts sent (0 for a file sent in one PUT).
    pub parts: usize,
    pub total: Duration,
    /// Waiting on the table (queries and reads).
    pub store_wait: Duration,
    /// Waiting on S3.
    pub s3_wait: Duration,
}

/// The export a stream record inserts, if it is one: its organization and ID.
pub fn inserted_export(record: &ChangeRecord) -> Option<(OrgId, ExportId)> {
    record.inserted(EXPORT_PREFIX)
}

/// Builds the exports a batch inserts, one after another; answers the IDs of the records
/// to deliver again.
pub async fn process(ctx: &Ctx, records: Vec<ChangeRecord>) -> Vec<String> {
    let mut failed = Vec::new();
    for record in records {
        let Some((org, id)) = inserted_export(&record) else { continue };
        if let Err(e) = export(ctx, &org, &id).await {
            tracing::warn!(export = %id, error = %e, "an export was not built; it will be tried again");
            failed.push(record.id);
        }
    }
    failed
}

/// Builds one export, unless it was built already; an error when it is to be tried again.
pub async fn export(ctx: &Ctx, org: &OrgId, id: &ExportId) -> Result<Option<Report>, String> {
    let Some(export) = ctx.store().start_export(org, id).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if export.attempts > MAX_ATTEMPTS {
        finish(ctx, &export, Outcome::Failed(NOT_BUILT.into())).await?;
        return Ok(None);
    }
    match build(ctx, &export).await {
        Ok((report, org_name)) => {
            let event = OutboxEvent::ExportReady {
                org_id: export.org_id.clone(),
                org_name,
                export_id: export.id.clone(),
                user_id: export.requested_by.clone(),
                export_kind: export.kind,
                format: export.format,
                expires_at: export.expires_at(),
            };
            finish(ctx, &export, Outcome::Ready { rows: report.rows, size: report.size, event: Box::new(event) })
                .await?;
            tracing::info!(
                export = %export.id, kind = export.kind.as_str(), format = export.format.extension(),
                rows = report.rows, bytes = report.size, ms = report.total.as_millis() as u64, "export ready"
            );
            Ok(Some(report))
        }
        Err(Build::Refused(why)) => {
            finish(ctx, &export, Outcome::Failed(why)).await?;
            Ok(None)
        }
        Err(Build::Failed(e)) if export.attempts >= MAX_ATTEMPTS => {
            tracing::error!(export = %export.id, error = %e, "an export failed for the last time");
            finish(ctx, &export, Outcome::Failed(NOT_BUILT.into())).await?;
            Ok(None)
        }
        Err(Build::Failed(e)) => Err(e),
    }
}

async fn finish(ctx: &Ctx, export: &Export, outcome: Outcome) -> Result<(), String> {
    ctx.store().finish_export(export, &outcome, Timestamp::now()).await.map(|_| ()).map_err(|e| e.to_string())
}

/// Why a build stopped.
enum Build {
    /// It cannot be built (the admin is no longer one): failed with this reason.
    Refused(String),
    /// Something failed that may work next time.
    Failed(String),
}

fn failed(e: impl std::fmt::Display) -> Build {
    Build::Failed(e.to_string())
}

/// Time spent waiting on the store, added up.
struct Clock {
    store: Duration,
}

impl Clock {
    async fn store<T, E: std::fmt::Display>(
        &mut self,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, Build> {
        let started = Instant::now();
        let out = call.await;
        self.store += started.elapsed();
        out.map_err(failed)
    }
}

/// Where rows go: a CSV or an XLSX workbook, written to the export's temporary file.
enum Sink {
    Csv(Box<CsvSink<BufWriter<File>>>),
    Xlsx { sink: Box<XlsxSink>, file: File },
}

impl Sink {
    fn new(format: ExportFormat, delimiter: Delimiter, file: File) -> Result<Self, Build> {
        Ok(match format {
            ExportFormat::Csv => Sink::Csv(Box::new(CsvSink::new(BufWriter::new(file), delimiter).map_err(failed)?)),
            ExportFormat::Xlsx => Sink::Xlsx { sink: Box::default(), file },
        })
    }

    /// Starts a table: a sheet of its own in a workbook, a header row in a CSV (after a
    /// blank line when it is not the first).
    fn table(&mut self, sheet: &str, header: &[&str]) -> Result<(), Build> {
        match self {
            Sink::Csv(csv) => {
                if csv.rows() > 0 {
                    // A blank line between tables.
                    csv.row(&vec![Cell::Empty; header.len()]).map_err(failed)?;
                }
                csv.row(&header.iter().map(|h| Cell::from(*h)).collect::<Vec<_>>()).map_err(failed)
            }
            Sink::Xlsx { sink, .. } => sink.sheet(sheet, header).map_err(failed),
        }
    }

    fn row(&mut self, cells: &[Cell]) -> Result<(), Build> {
        match self {
            Sink::Csv(csv) => csv.row(cells).map_err(failed),
            Sink::Xlsx { sink, .. } => sink.row(cells).map_err(failed),
        }
    }

    /// Sends the full parts of a CSV written so far (a workbook is zipped at the end).
    async fn drain(&mut self, out: &mut ObjectWriter<'_>) -> Result<(), Build> {
        if let Sink::Csv(csv) = self {
            csv.flush().map_err(failed)?;
            out.sync(written(out.path())?).await.map_err(failed)?;
        }
        Ok(())
    }

    /// Writes the rest of the file; answers its size.
    async fn finish(self, path: &Path) -> Result<u64, Build> {
        match self {
            Sink::Csv(csv) => {
                csv.finish().map_err(failed)?.flush().map_err(failed)?;
            }
            // Zipped off the async threads.
            Sink::Xlsx { sink, file } => {
                tokio::task::spawn_blocking(move || sink.finish(BufWriter::new(file)))
                    .await
                    .map_err(failed)?
                    .map_err(failed)?;
            }
        }
        written(path)
    }
}

/// The size of the file written so far.
fn written(path: &Path) -> Result<u64, Build> {
    std::fs::metadata(path).map(|m| m.len()).map_err(failed)
}

/// The words of a file, in the language of the admin who asked for it.
struct Words {
    lang: Language,
}

impl Words {
    fn t(&self, ru: &'static str, en: &'static str) -> &'static str {
        match self.lang {
            Language::Ru => ru,
            Language::En => en,
        }
    }

    fn roles(&self, m: &Membership) -> String {
        let mut names: Vec<&str> = m.roles.iter().map(|g| role_name(g.role, self.lang)).collect();
        if m.admin {
            names.push(self.t("администратор", "admin"));
        }
        names.join(", ")
    }
}

/// Builds the export's file in the bucket: its report and the organization's name.
async fn build(ctx: &Ctx, export: &Export) -> Result<(Report, String), Build> {
    let started = Instant::now();
    let mut clock = Clock { store: Duration::ZERO };
    let now = Timestamp::now();
    let days = SummaryDays::at(now);
    // The requester's profile (their language) and, for a summary, its day counts: read
    // with the organization and the requester's membership in one round trip.
    let mut reads = vec![Also::User(export.requested_by.clone())];
    if export.kind == ExportKind::Summary {
        reads.extend(days.reads());
    }
    let store = ctx.store();
    let (org, admin, mut read) =
        clock.store(store.org_member_and(&export.org_id, &export.requested_by, &reads)).await?;
    let Some(org) = org else { return Err(Build::Refused("The organization no longer exists.".into())) };
    if !admin.as_ref().is_some_and(|m| m.admin) {
        return Err(Build::Refused("The export was asked for by someone who is no longer an admin.".into()));
    }
    let lang = read.user(&export.requested_by).map_err(failed)?.map(|u| u.language).unwrap_or_default();
    let words = Words { lang };
    let (s3, bucket, key) = (ctx.s3(), &ctx.config().exports_bucket, export.object_key());
    // The file is written to a temporary file (deleted when dropped) and sent from there.
    let file = tempfile::NamedTempFile::new().map_err(failed)?;
    let mut out = ObjectWriter::new(s3, bucket, &key, export.format.content_type(), file.path());
    let mut sink = Sink::new(export.format, export.delimiter, file.reopen().map_err(failed)?)?;
    let written = async {
        let rows = match export.kind {
            ExportKind::Summary => {
                let counts = days.counts(&mut read).map_err(failed)?;
                let links = clock.store(store.all_links(&org.id)).await?;
                summary(&mut sink, &words, &Summary::of(&org, &counts, &links, now), &counts)?
            }
            ExportKind::Employees => employees(ctx, &mut clock, &mut sink, &mut out, &words, &org.id, now).await?,
        };
        let size = sink.finish(file.path()).await?;
        Ok::<(u64, u64), Build>((rows, size))
    }
    .await;
    let (rows, size) = match written {
        Ok(done) => done,
        Err(e) => {
            out.abort().await;
            return Err(e);
        }
    };
    let (parts, s3_wait) = out.finish(size).await.map_err(failed)?;
    let report = Report { rows, size, parts, total: started.elapsed(), store_wait: clock.store, s3_wait };
    Ok((report, org.name))
}

/// The summary: the figures, then the members active on each of the last 30 days (with a
/// chart of them in a workbook). Answers the data rows written.
fn summary(sink: &mut Sink, w: &Words, s: &Summary, counts: &crate::domain::stats::DayCounts) -> Result<u64, Build> {
    let r = |role: Role| role_name(role, w.lang);
    let figures: Vec<(String, u64)> = vec![
        (w.t("Участники", "Members").into(), s.members.total.into()),
        (w.t("Администраторы", "Admins").into(), s.members.admins.into()),
        (format!("{}: {}", w.t("Роль", "Role"), r(Role::Teacher)), s.members.by_role.teacher.into()),
        (format!("{}: {}", w.t("Роль", "Role"), r(Role::Staff)), s.members.by_role.staff.into()),
        (format!("{}: {}", w.t("Роль", "Role"), r(Role::Student)), s.members.by_role.student.into()),
        (format!("{}: {}", w.t("Роль", "Role"), r(Role::Parent)), s.members.by_role.parent.into()),
        (w.t("Классы", "Classes").into(), s.classes.into()),
        (w.t("Группы", "Groups").into(), s.groups.into()),
        (w.t("Курсы", "Courses").into(), s.courses.into()),
        (w.t("Заявки на вступление (ожидают)", "Join requests (pending)").into(), s.pending_join_requests.into()),
        (w.t("Действующие ссылки-приглашения", "Active invitation links").into(), s.invite_links.active),
        (w.t("Вступлений по действующим ссылкам", "Joins through active links").into(), s.invite_links.uses),
        (w.t("Приглашения по почте (ожидают)", "Email invitations (pending)").into(), s.invitations.pending),
        (w.t("Файлы", "Files").into(), s.files.count),
        (w.t("Файлы, байт", "Files, bytes").into(), s.files.bytes),
        (w.t("Активны за 7 дней", "Active in the last 7 days").into(), s.active_7d),
        (w.t("Активны за 30 дней", "Active in the last 30 days").into(), s.active_30d),
    ];
    sink.table(w.t("Сводка", "Summary"), &[w.t("Показатель", "Figure"), w.t("Значение", "Value")])?;
    sink.row(&[Cell::from(w.t("На момент (UTC)", "As of (UTC)")), Cell::Time(s.as_of)])?;
    for (name, value) in &figures {
        sink.row(&[Cell::Text(name.clone()), Cell::Number(*value)])?;
    }
    let title = w.t("Активны по дням", "Active per day");
    sink.table(title, &[w.t("День", "Day"), w.t("Активных участников", "Active members")])?;
    // Oldest first: a chart reads left to right.
    for (day, active) in counts.days.iter().zip(&counts.active).rev() {
        let cell = time::Date::parse(day, &time::format_description::well_known::Iso8601::DATE)
            .map_or_else(|_| Cell::Text(day.clone()), Cell::Day);
        sink.row(&[cell, Cell::Number(*active)])?;
    }
    if let Sink::Xlsx { sink: x, .. } = sink {
        let last = counts.days.len() as u32;
        x.chart(&SeriesChart {
            title: w.t("Активные участники за 30 дней", "Members active over 30 days"),
            series_name: w.t("Активных участников", "Active members"),
            categories_col: 0,
            values_col: 1,
            first_row: 1,
            last_row: last,
            at: (1, 3),
        })
        .map_err(failed)?;
    }
    Ok(1 + figures.len() as u64 + counts.days.len() as u64)
}

/// The employees, page by page: each page's rows go out before the next is read. The
/// members first, then the journal's teachers and staff who have not joined yet.
async fn employees(
    ctx: &Ctx,
    clock: &mut Clock,
    sink: &mut Sink,
    out: &mut ObjectWriter<'_>,
    w: &Words,
    org: &OrgId,
    now: Timestamp,
) -> Result<u64, Build> {
    let store = ctx.store();
    sink.table(
        w.t("Сотрудники", "Employees"),
        &[
            w.t("ФИО", "Name"),
            w.t("Роли", "Roles"),
            w.t("Должность", "Position"),
            w.t("Классы", "Classes"),
            w.t("В организации с", "Joined"),
            w.t("Последняя активность", "Last active"),
            w.t("Дней активности из 30", "Active days of 30"),
            w.t("Публикации", "Posts"),
            w.t("Объявления", "Announcements"),
            w.t("Файлы", "Files"),
        ],
    )?;
    // Class names by ID, read once a page for the classes that page names.
    let mut class_names: HashMap<String, String> = HashMap::new();
    let mut page = PageQuery { limit: PAGE, cursor: None };
    let mut rows = 0;
    loop {
        let (members, next) = clock.store(store.employees(org, &page)).await?;
        let unknown: std::collections::BTreeSet<String> =
            members.iter().flat_map(|m| m.taught_class_ids()).filter(|id| !class_names.contains_key(id)).collect();
        if !unknown.is_empty() {
            for c in clock.store(store.classes_by_id(org, &class_ids(&unknown))).await? {
                class_names.insert(c.id.to_string(), c.name.clone());
            }
        }
        for m in &members {
            let classes: Vec<&str> =
                m.taught_class_ids().iter().filter_map(|id| class_names.get(id).map(String::as_str)).collect();
            sink.row(&[
                Cell::Text(m.name.clone()),
                Cell::Text(w.roles(m)),
                m.position().map_or(Cell::Empty, Cell::from),
                Cell::Text(classes.join(", ")),
                Cell::Time(m.joined_at),
                m.last_active_at.into(),
                Cell::Number(m.active_days_30(now) as u64),
                Cell::Number(m.post_count),
                Cell::Number(m.announcement_count),
                Cell::Number(m.file_count),
            ])?;
            rows += 1;
        }
        sink.drain(out).await?;
        match next {
            Some(cursor) => page.cursor = Some(cursor),
            None => break,
        }
    }
    // Then the journal's teachers and staff who have not joined: the same columns, empty
    // where they have nothing yet (joined, last active), their activity 0.
    let mut page = PageQuery { limit: PAGE, cursor: None };
    loop {
        let (people, next) = clock.store(store.waiting_employees(org, &page)).await?;
        let taught: Vec<Vec<String>> = people.iter().map(|p| p.taught().0).collect();
        let unknown: std::collections::BTreeSet<String> =
            taught.iter().flatten().filter(|id| !class_names.contains_key(*id)).cloned().collect();
        if !unknown.is_empty() {
            for c in clock.store(store.classes_by_id(org, &class_ids(&unknown))).await? {
                class_names.insert(c.id.to_string(), c.name.clone());
            }
        }
        for (p, ids) in people.iter().zip(&taught) {
            let classes: Vec<&str> = ids.iter().filter_map(|id| class_names.get(id).map(String::as_str)).collect();
            let position = crate::domain::imports::position(p.role, &p.roster_role, p.language);
            sink.row(&[
                Cell::Text(p.name.clone()),
                Cell::from(role_name(p.role, w.lang)),
                position.map_or(Cell::Empty, Cell::from),
                Cell::Text(classes.join(", ")),
                Cell::Empty,
                Cell::Empty,
                Cell::Number(0),
                Cell::Number(0),
                Cell::Number(0),
                Cell::Number(0),
            ])?;
            rows += 1;
        }
        sink.drain(out).await?;
        match next {
            Some(cursor) => page.cursor = Some(cursor),
            None => return Ok(rows),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::types::AttributeValue;

    fn record(event: &str, sk: &str) -> ChangeRecord {
        let mut image = crate::store::tx::Item::new();
        image.insert("pk".into(), AttributeValue::S("ORG#k7m3xq9pza".into()));
        image.insert("sk".into(), AttributeValue::S(sk.into()));
        image.insert("org_id".into(), AttributeValue::S("k7m3xq9pza".into()));
        ChangeRecord { id: "1".into(), event_name: event.into(), new_image: image, ..Default::default() }
    }

    #[test]
    fn only_an_inserted_export_is_built() {
        let (org, id) = inserted_export(&record("INSERT", "EXPORT#01m8gpz9njkpaygg3we2jakp4t")).unwrap();
        assert_eq!((org.as_str(), id.as_str()), ("k7m3xq9pza", "01m8gpz9njkpaygg3we2jakp4t"));
        assert!(inserted_export(&record("MODIFY", "EXPORT#01m8gpz9njkpaygg3we2jakp4t")).is_none());
        assert!(inserted_export(&record("INSERT", "EXPORTSLOT#u1#0")).is_none());
        assert!(inserted_export(&record("INSERT", "MEMBER#u1")).is_none());
    }
}
