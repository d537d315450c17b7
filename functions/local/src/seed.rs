//! A realistic school made through the API, as its admin would make it: `make seed`
//! (against a running `make dev`) and the load benchmark use it.
//!
//! A school: the current year's classes 1А–9Г and 10А–11Б with a class teacher each,
//! teachers and staff with positions, students with Russian names in every class, their
//! parents (one account per family, tied to each child's class), two more admins, an
//! invite link with a pending join request, an email invitation, and the audit trail all
//! of it leaves. People sign in (`GET /me`) before an admin adds them, as in real life.

use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::tokens;

/// The API of a running stack, with the secret its dev tokens are signed with.
#[derive(Clone)]
pub struct Api {
    base: String,
    secret: String,
    client: reqwest::Client,
}

/// A person with a dev token.
#[derive(Debug, Clone)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub name: String,
    pub token: String,
}

impl Api {
    pub fn new(base: &str, secret: &str) -> Api {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("HTTP client");
        Api { base: base.trim_end_matches('/').to_string(), secret: secret.to_string(), client }
    }

    /// A person whose dev token is valid for `hours`.
    pub fn person(&self, sub: &str, email: &str, name: &str, hours: i64) -> Person {
        let claims = tokens::DevClaims::new(sub, Some(email), Some(name), true, hours * 3600);
        Person { sub: sub.into(), email: email.into(), name: name.into(), token: tokens::mint(&self.secret, &claims) }
    }

    /// One request; a 2xx answer's JSON body (`Null` when empty), else what went wrong.
    pub async fn call(&self, who: &Person, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let method: reqwest::Method = method.parse().map_err(|_| format!("bad method {method}"))?;
        let mut rb = self.client.request(method.clone(), format!("{}/v1{path}", self.base)).bearer_auth(&who.token);
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let answer = rb.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| format!("{method} {path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path} answered {status}: {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Like [`Api::call`], and how long it took.
    pub async fn timed(
        &self,
        who: &Person,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(Value, Duration), String> {
        let started = Instant::now();
        let answer = self.call(who, method, path, body).await?;
        Ok((answer, started.elapsed()))
    }
}

/// A small deterministic generator (xorshift64*): the same school for the same seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }

    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

const MALE: &[&str] = &[
    "Александр",
    "Алексей",
    "Андрей",
    "Артём",
    "Богдан",
    "Вадим",
    "Владимир",
    "Глеб",
    "Даниил",
    "Денис",
    "Дмитрий",
    "Егор",
    "Иван",
    "Илья",
    "Кирилл",
    "Константин",
    "Лев",
    "Максим",
    "Марк",
    "Матвей",
    "Михаил",
    "Никита",
    "Николай",
    "Олег",
    "Павел",
    "Роман",
    "Сергей",
    "Степан",
    "Тимофей",
    "Фёдор",
    "Ярослав",
];
const FEMALE: &[&str] = &[
    "Алина",
    "Алиса",
    "Анастасия",
    "Анна",
    "Арина",
    "Валерия",
    "Варвара",
    "Вера",
    "Виктория",
    "Дарья",
    "Ева",
    "Екатерина",
    "Елена",
    "Елизавета",
    "Ирина",
    "Ксения",
    "Мария",
    "Милана",
    "Надежда",
    "Наталья",
    "Ольга",
    "Полина",
    "Светлана",
    "София",
    "Татьяна",
    "Ульяна",
    "Юлия",
];
/// Surnames in their male form; the female form adds "а" (Иванов → Иванова).
const SURNAMES: &[&str] = &[
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Александров",
    "Дмитриев",
    "Королёв",
    "Гусев",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Белов",
];
/// Patronymic stems: male adds "ович"/"евич", female "овна"/"евна" (from MALE names).
const FATHERS: &[(&str, &str)] = &[
    ("Александр", "о"),
    ("Алексе", "е"),
    ("Андре", "е"),
    ("Владимир", "о"),
    ("Дмитри", "е"),
    ("Иван", "о"),
    ("Михайл", "о"),
    ("Никола", "е"),
    ("Олег", "о"),
    ("Павл", "о"),
    ("Серге", "е"),
    ("Юрь", "е"),
];
const SUBJECTS: &[&str] = &[
    "Учитель математики",
    "Учитель русского языка и литературы",
    "Учитель английского языка",
    "Учитель истории и обществознания",
    "Учитель физики",
    "Учитель химии",
    "Учитель биологии",
    "Учитель географии",
    "Учитель информатики",
    "Учитель физической культуры",
    "Учитель музыки",
    "Учитель изобразительного искусства",
    "Учитель технологии",
    "Учитель ОБЖ",
    "Учитель начальных классов",
];
pub const STAFF: &[&str] = &[
    "Заместитель директора по учебной работе",
    "Заместитель директора по воспитательной работе",
    "Секретарь",
    "Педагог-психолог",
    "Социальный педагог",
    "Библиотекарь",
    "Логопед",
    "Медицинская сестра",
    "Заведующий хозяйством",
    "Методист",
];

/// A full name, "Фамилия Имя Отчество".
pub fn full_name(rng: &mut Rng, female: bool) -> String {
    let surname = rng.pick(SURNAMES);
    let first = if female { rng.pick(FEMALE) } else { rng.pick(MALE) };
    let (stem, link) = FATHERS[rng.below(FATHERS.len())];
    let patronymic = match (female, link) {
        (false, "о") => format!("{stem}ович"),
        (false, _) => format!("{stem}евич"),
        (true, "о") => format!("{stem}овна"),
        (true, _) => format!("{stem}евна"),
    };
    let surname = if female { format!("{surname}а") } else { surname.to_string() };
    format!("{surname} {first} {patronymic}")
}

/// How big a school is.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Students per class (the classes are always 1А–9Г and 10А–11Б: 40).
    pub per_class: usize,
    pub teachers: usize,
    pub staff: usize,
}

impl Size {
    /// About a thousand students, fifty teachers, ten staff.
    pub const SCHOOL: Size = Size { per_class: 25, teachers: 50, staff: 10 };
}

/// The classes of a school: (grade, letter).
pub fn classes() -> Vec<(u8, &'static str)> {
    let mut out = Vec::new();
    for grade in 1..=11u8 {
        let letters: &[&str] = if grade <= 9 { &["А", "Б", "В", "Г"] } else { &["А", "Б"] };
        out.extend(letters.iter().map(|l| (grade, *l)));
    }
    out
}

/// What a seeded school is: its ID and people to sign in as.
#[derive(Debug, Clone)]
pub struct School {
    pub org: String,
    pub name: String,
    pub admin: Person,
    pub teacher: Person,
    pub parent: Person,
    pub members: usize,
    pub requests: usize,
}

/// Seeds one school through the API with `parallel` requests in flight. `run` makes its
/// people unique (a second run makes a second school).
pub async fn school(api: &Api, run: &str, number: usize, size: Size, parallel: usize) -> Result<School, String> {
    let mut rng = Rng::new(number as u64 ^ u64::from_str_radix(&run[..run.len().min(12)], 36).unwrap_or(7));
    let mut requests = 0usize;
    let person = |role: &str, i: usize, name: &str| {
        api.person(
            &format!("seed-{run}-{number}-{role}{i}"),
            &format!("{role}{i}.{run}.{number}@school.test"),
            name,
            12,
        )
    };
    let admin = person("director", 0, &full_name(&mut rng, number.is_multiple_of(2)));
    api.call(&admin, "GET", "/me", None).await?;
    let name = format!("Школа №{number}");
    let org = api
        .call(
            &admin,
            "POST",
            "/orgs",
            Some(json!({"name": format!("МБОУ «Средняя общеобразовательная школа №{number}»"), "short_name": name})),
        )
        .await?["id"]
        .as_str()
        .ok_or("no org id")?
        .to_string();
    requests += 2;

    // Teachers and staff: they sign in, then the admin adds them.
    let mut staff_people = Vec::new();
    for i in 0..size.teachers + size.staff {
        let female = rng.below(10) < 8;
        let p = person(if i < size.teachers { "teacher" } else { "staff" }, i, &full_name(&mut rng, female));
        let role = if i < size.teachers {
            json!({"role": "teacher", "position": SUBJECTS[i % SUBJECTS.len()]})
        } else {
            json!({"role": "staff", "position": STAFF[(i - size.teachers) % STAFF.len()]})
        };
        staff_people.push((p, role));
    }
    let path = format!("/orgs/{org}/members");
    run_all(parallel, staff_people.iter().map(|(p, role)| enrol(api, &admin, &path, p, json!([role])))).await?;
    requests += 2 * staff_people.len();

    // Classes, each with a class teacher.
    let plan = classes();
    let class_path = format!("/orgs/{org}/classes");
    let made = run_all(
        parallel,
        plan.iter().enumerate().map(|(i, (grade, letter))| {
            let teacher = &staff_people[i % size.teachers.max(1)].0;
            api.call(
                &admin,
                "POST",
                &class_path,
                Some(json!({"grade": grade, "letter": letter, "class_teacher_ids": [teacher.sub]})),
            )
        }),
    )
    .await?;
    requests += made.len();
    let class_ids: Vec<String> = made.iter().map(|c| c["id"].as_str().unwrap_or_default().to_string()).collect();

    // Students in every class; one parent account per family, siblings in other classes.
    let mut students = Vec::new();
    let mut parents: Vec<(Person, Vec<String>)> = Vec::new();
    for (c, class) in class_ids.iter().enumerate() {
        for k in 0..size.per_class {
            let female = rng.below(2) == 0;
            let i = c * size.per_class + k;
            let student = person("student", i, &full_name(&mut rng, female));
            students.push((student, json!([{"role": "student", "class_ids": [class]}])));
            // About one family in five has a second child at the school.
            if !parents.is_empty() && rng.below(5) == 0 {
                let at = rng.below(parents.len());
                if !parents[at].1.contains(class) {
                    parents[at].1.push(class.clone());
                }
                continue;
            }
            let mother = rng.below(4) != 0;
            parents.push((person("parent", i, &full_name(&mut rng, mother)), vec![class.clone()]));
        }
    }
    run_all(parallel, students.iter().map(|(p, roles)| enrol(api, &admin, &path, p, roles.clone()))).await?;
    requests += 2 * students.len();
    run_all(
        parallel,
        parents
            .iter()
            .map(|(p, classes)| enrol(api, &admin, &path, p, json!([{"role": "parent", "class_ids": classes}]))),
    )
    .await?;
    requests += 2 * parents.len();

    // Two more admins: the deputy heads.
    for (p, _) in staff_people.iter().skip(size.teachers).take(2) {
        api.call(&admin, "PUT", &format!("/orgs/{org}/admins/{}", p.sub), None).await?;
        requests += 1;
    }

    // An invite link for new teachers, and a newcomer who used it and waits for approval.
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(14);
    let expires = expires.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?;
    let link = api
        .call(
            &admin,
            "POST",
            &format!("/orgs/{org}/invite-links"),
            Some(json!({"expires_at": expires, "max_uses": 20, "roles": [{"role": "teacher", "position": "Учитель"}]})),
        )
        .await?;
    let link_token = link["token"].as_str().ok_or("no link token")?.to_string();
    let newcomer = person("newcomer", 0, &full_name(&mut rng, true));
    api.call(&newcomer, "GET", "/me", None).await?;
    api.call(&newcomer, "POST", &format!("/invite-links/{link_token}/accept"), Some(json!({}))).await?;
    // An email invitation to a teacher who has not signed in yet.
    api.call(
        &admin,
        "POST",
        &format!("/orgs/{org}/invitations"),
        Some(json!({"emails": [format!("invited.{run}.{number}@school.test")], "role": {"role": "teacher", "position": "Учитель информатики"}})),
    )
    .await?;
    requests += 4;

    // A group: the first teacher and the first class's students, with a discussion and an
    // announcement (mailed to the group).
    let teacher = &staff_people[0].0;
    let groups = format!("/orgs/{org}/groups");
    let about = "Задачи повышенной сложности и подготовка к олимпиадам.";
    let group =
        api.call(&admin, "POST", &groups, Some(json!({"name": "Кружок юных математиков", "description": about})));
    let group = group.await?["id"].as_str().ok_or("no group id")?.to_string();
    let g = format!("{groups}/{group}");
    let mut people = vec![teacher.sub.as_str()];
    people.extend(students.iter().take(size.per_class.min(99)).map(|(p, _)| p.sub.as_str()));
    api.call(&admin, "POST", &format!("{g}/members"), Some(json!({"user_ids": people}))).await?;
    let asker = students.first().map_or(teacher, |(p, _)| p);
    let question =
        json!({"title": "Задача на выходные", "body": "Как решать №12 со звёздочкой?\nУ меня не сходится ответ."});
    let thread = api.call(asker, "POST", &format!("{g}/threads"), Some(question)).await?;
    let thread = thread["id"].as_str().ok_or("no thread id")?.to_string();
    let hint = json!({"body": "Попробуй начать с конца: что должно получиться в последнем шаге?"});
    api.call(teacher, "POST", &format!("{g}/threads/{thread}/replies"), Some(hint)).await?;
    let notice =
        json!({"title": "Олимпиада в четверг", "body": "Сбор в 14:30 в кабинете 21.\nВозьмите ручку и черновик."});
    api.call(teacher, "POST", &format!("{g}/announcements"), Some(notice)).await?;
    requests += 5;

    let members = 1 + staff_people.len() + students.len() + parents.len();
    Ok(School { org, name, admin, teacher: staff_people[0].0.clone(), parent: parents[0].0.clone(), members, requests })
}

/// The person signs in, then the admin adds them with these roles.
async fn enrol(api: &Api, admin: &Person, path: &str, who: &Person, roles: Value) -> Result<Value, String> {
    api.call(who, "GET", "/me", None).await?;
    api.call(admin, "POST", path, Some(json!({"user_id": who.sub, "roles": roles}))).await
}

/// Runs the futures with at most `parallel` in flight; all their answers, or the first error.
pub async fn run_all<F>(parallel: usize, futures: impl Iterator<Item = F>) -> Result<Vec<Value>, String>
where
    F: std::future::Future<Output = Result<Value, String>>,
{
    let answers: Vec<Result<Value, String>> = stream::iter(futures).buffered(parallel.max(1)).collect().await;
    answers.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_classes_run_from_1a_to_11b() {
        let c = classes();
        assert_eq!(c.len(), 40);
        assert_eq!(c.first(), Some(&(1, "А")));
        assert_eq!(c.last(), Some(&(11, "Б")));
    }

    #[test]
    fn names_are_russian_full_names_with_agreeing_forms() {
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let female = rng.below(2) == 0;
            let name = full_name(&mut rng, female);
            let parts: Vec<&str> = name.split(' ').collect();
            assert_eq!(parts.len(), 3, "{name}");
            assert!(name.chars().all(|c| c == ' ' || ('А'..='я').contains(&c) || c == 'ё' || c == 'Ё'), "{name}");
            assert_eq!(parts[2].ends_with("вна"), female, "{name}");
            assert_eq!(parts[0].ends_with('а'), female, "{name}");
        }
    }
}
