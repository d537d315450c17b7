//! Organizations: made with their first admin, read with the caller's membership (and
//! whatever else a request needs) in one round trip, and their profile edited.

use std::collections::{BTreeSet, HashMap};

use super::items::{
    class_key, course_key, from_item, group_key, member_item, member_key, org_item, org_key, request_key, user_key,
};
use super::keys::{
    active_day_sk, export_sk, export_slot_sk, file_sk, import_sk, invitations_expiring_sk, org_pk, orgs_created_sk,
    post_sk_at, roster_count_sk, roster_sk, user_pk, waiting_attr, LINKED_COUNT, ROSTERCOUNT_SHARDS,
};
use super::pieces::{add_audit, count_active, count_within, put_search_items};
use super::tx::{key, key_of, n, s, Expr, Item, Tx};
use super::{Store, StoreError};
use crate::domain::invitations::VALID_DAYS;
use crate::domain::org::DAILY_ORGS_PER_PERSON;
use crate::domain::stats::{DayCounts, RoleCounts, WaitingCounts, ACTIVITY_DAYS, WAITING_ROLES};
use crate::domain::SourcedId;
use crate::domain::{
    AuditEntry, Class, ClassId, Course, CourseId, Email, Export, ExportId, FileId, FileStatus, Group, GroupFile,
    GroupId, ImportId, JoinRequest, JoinRequestId, Membership, Org, OrgId, OrgProfile, Phone, Post, PostRef, Timestamp,
};
use crate::domain::{Role, User, UserId, Website};

/// An item to read along with the membership check: of the organization's partition, or
/// a person's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Also {
    Member(UserId),
    Class(ClassId),
    JoinRequest(JoinRequestId),
    User(UserId),
    Group(GroupId),
    Course(CourseId),
    /// A post of a group: a thread, a reply (in its thread) or an announcement.
    Post {
        group: GroupId,
        post: PostRef,
    },
    /// A file of a group: ready or an upload.
    File {
        status: FileStatus,
        group: GroupId,
        file: FileId,
    },
    /// The count of members last active on a day (`2026-12-06`).
    ActiveDay(String),
    /// The count of pending invitations expiring on a day.
    InvitationsExpiring(String),
    Export(ExportId),
    /// One of a member's places for an export building.
    ExportSlot {
        user: UserId,
        slot: u32,
    },
    Import(ImportId),
    /// A roster record (by sourcedId).
    RosterPerson(SourcedId),
    /// A shard of the roster's counts (people nobody has joined as, records joined as).
    WaitingCount(u32),
}

impl Also {
    fn key(&self, org: &OrgId) -> Item {
        match self {
            Also::Member(user) => member_key(org, user),
            Also::Class(id) => class_key(org, id),
            Also::JoinRequest(id) => request_key(org, id),
            Also::User(user) => user_key(user),
            Also::Group(id) => group_key(org, id),
            Also::Course(id) => course_key(org, id),
            Also::Post { group, post } => key(org_pk(org), post_sk_at(group, post)),
            Also::File { status, group, file } => key(org_pk(org), file_sk(*status, group, file)),
            Also::ActiveDay(day) => key(org_pk(org), active_day_sk(day)),
            Also::InvitationsExpiring(day) => key(org_pk(org), invitations_expiring_sk(day)),
            Also::Export(id) => key(org_pk(org), export_sk(id)),
            Also::ExportSlot { user, slot } => key(org_pk(org), export_slot_sk(user, *slot)),
            Also::Import(id) => key(org_pk(org), import_sk(id)),
            Also::RosterPerson(id) => key(org_pk(org), roster_sk(id)),
            Also::WaitingCount(shard) => key(org_pk(org), roster_count_sk(*shard)),
        }
    }
}

/// The further items read with the membership check, by what was asked for.
#[derive(Debug, Default)]
pub struct Read {
    org: Option<OrgId>,
    items: HashMap<(String, String), Item>,
}

impl Read {
    fn take<T: serde::de::DeserializeOwned>(&mut self, key: Item) -> Result<Option<T>, StoreError> {
        self.items.remove(&key_of(&key)).map(from_item).transpose()
    }

    fn org(&self) -> Result<&OrgId, StoreError> {
        self.org.as_ref().ok_or_else(|| StoreError::Other("no organization was read".into()))
    }

    pub fn member(&mut self, user: &UserId) -> Result<Option<Membership>, StoreError> {
        let key = member_key(self.org()?, user);
        self.take(key)
    }

    pub fn class(&mut self, id: &ClassId) -> Result<Option<Class>, StoreError> {
        let key = class_key(self.org()?, id);
        self.take(key)
    }

    pub fn join_request(&mut self, id: &JoinRequestId) -> Result<Option<JoinRequest>, StoreError> {
        let key = request_key(self.org()?, id);
        self.take(key)
    }

    pub fn user(&mut self, user: &UserId) -> Result<Option<User>, StoreError> {
        self.take(user_key(user))
    }

    pub fn group(&mut self, id: &GroupId) -> Result<Option<Group>, StoreError> {
        let key = group_key(self.org()?, id);
        self.take(key)
    }

    pub fn course(&mut self, id: &CourseId) -> Result<Option<Course>, StoreError> {
        let key = course_key(self.org()?, id);
        self.take(key)
    }

    pub fn post(&mut self, group: &GroupId, post: &PostRef) -> Result<Option<Post>, StoreError> {
        let key = key(org_pk(self.org()?), post_sk_at(group, post));
        self.take(key)
    }

    /// A counter of the organization's partition (0 when there is none, or it was not read).
    fn counter(&mut self, sk: String, attr: &str) -> Result<u64, StoreError> {
        let item = key(org_pk(self.org()?), sk);
        let count = self.items.get(&key_of(&item)).and_then(|i| i.get(attr).and_then(|v| v.as_n().ok().cloned()));
        Ok(count.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0).max(0) as u64)
    }

    /// The sum of an attribute over the shards of the roster's counts read
    /// ([`roster_count_reads`]), 0 when none was.
    fn roster_count(&self, attr: &str) -> Result<u32, StoreError> {
        let mut sum = 0i64;
        for shard in 0..ROSTERCOUNT_SHARDS {
            let item = key(org_pk(self.org()?), roster_count_sk(shard));
            let count = self.items.get(&key_of(&item)).and_then(|i| i.get(attr)).and_then(|v| v.as_n().ok());
            sum += count.and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        }
        Ok(u32::try_from(sum.max(0)).unwrap_or(u32::MAX))
    }

    /// The journal's people nobody has joined as yet, by role.
    pub fn waiting(&mut self) -> Result<WaitingCounts, StoreError> {
        let [teacher, staff, student, parent] = WAITING_ROLES.map(|role| self.roster_count(waiting_attr(role)));
        Ok(WaitingCounts::of(RoleCounts { teacher: teacher?, staff: staff?, student: student?, parent: parent? }))
    }

    /// How many of the journal's records members joined as.
    pub fn linked_records(&mut self) -> Result<u32, StoreError> {
        self.roster_count(LINKED_COUNT)
    }

    /// How many members were last active on `day`.
    pub fn active_on(&mut self, day: &str) -> Result<u64, StoreError> {
        self.counter(active_day_sk(day), "members")
    }

    /// How many members were active on `day` (each once).
    pub fn seen_on(&mut self, day: &str) -> Result<u64, StoreError> {
        self.counter(active_day_sk(day), "seen")
    }

    pub fn import(&mut self, id: &ImportId) -> Result<Option<crate::domain::Import>, StoreError> {
        let key = key(org_pk(self.org()?), import_sk(id));
        self.take(key)
    }

    pub fn roster_person(&mut self, id: &SourcedId) -> Result<Option<crate::domain::RosterPerson>, StoreError> {
        let key = key(org_pk(self.org()?), roster_sk(id));
        self.take(key)
    }

    pub fn export(&mut self, id: &ExportId) -> Result<Option<Export>, StoreError> {
        let key = key(org_pk(self.org()?), export_sk(id));
        self.take(key)
    }

    /// Whether a member's export building place is held at `now` (by an export that has
    /// not passed its deadline).
    pub fn export_slot_held(&mut self, user: &UserId, slot: u32, now: Timestamp) -> Result<bool, StoreError> {
        let item = key(org_pk(self.org()?), export_slot_sk(user, slot));
        let held_until = self
            .items
            .remove(&key_of(&item))
            .and_then(|i| i.get("held_until").and_then(|v| v.as_s().ok()).and_then(|t| Timestamp::parse(t).ok()));
        Ok(held_until.is_some_and(|t| t > now))
    }

    /// How many pending invitations expire on `day`.
    pub fn invitations_expiring_on(&mut self, day: &str) -> Result<u64, StoreError> {
        self.counter(invitations_expiring_sk(day), "pending")
    }

    pub fn file(&mut self, status: FileStatus, group: &GroupId, id: &FileId) -> Result<Option<GroupFile>, StoreError> {
        let key = key(org_pk(self.org()?), file_sk(status, group, id));
        self.take(key)
    }
}

/// The items of the roster's counts (waiting people by role, records joined as), to read
/// with the membership check: one key a shard.
pub fn roster_count_reads() -> Vec<Also> {
    (0..ROSTERCOUNT_SHARDS).map(Also::WaitingCount).collect()
}

/// Why an organization was not created.
#[derive(Debug)]
pub enum CreateOrgError {
    /// Its creator created [`DAILY_ORGS_PER_PERSON`] today.
    DailyLimit,
    Store(StoreError),
}

impl From<StoreError> for CreateOrgError {
    fn from(e: StoreError) -> Self {
        CreateOrgError::Store(e)
    }
}

/// Counts an organization created against its creator's UTC day (at most
/// [`DAILY_ORGS_PER_PERSON`]); the counter leaves by TTL.
fn count_created(tx: &mut Tx, creator: &UserId, now: Timestamp) -> Result<usize, StoreError> {
    let key = super::tx::key(user_pk(creator), orgs_created_sk(&now.day()));
    count_within(tx, key, "count", DAILY_ORGS_PER_PERSON, now.unix() + 2 * 86_400)
}

impl Store {
    /// Creates an organization with its creator as first admin. The ID is drawn again on
    /// the (rare) collision: the create is conditional on the ID being free.
    pub async fn create_org(&self, mut org: Org, mut creator: Membership) -> Result<(Org, Membership), CreateOrgError> {
        for grant in &creator.roles {
            match grant.role {
                Role::Teacher => org.teacher_count = 1,
                Role::Staff => org.staff_count = 1,
                Role::Student => org.student_count = 1,
                Role::Parent => org.parent_count = 1,
            }
        }
        for _ in 0..5 {
            creator.org_id = org.id.clone();
            let mut tx = Tx::new(&self.table);
            tx.put(org_item(&org)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            tx.put(member_item(&creator)?, Some(Expr::condition("attribute_not_exists(pk)")))?;
            put_search_items(&mut tx, &creator)?;
            if let Some(at) = creator.last_active_at {
                count_active(&mut tx, &org.id, at)?;
            }
            let day = count_created(&mut tx, &creator.user_id, org.created_at)?;
            match tx.run(self).await {
                Ok(()) => return Ok((org, creator)),
                Err(e) if e.condition_failed_at(day) => return Err(CreateOrgError::DailyLimit),
                Err(e) if e.condition_failed_at(0) => org.id = OrgId::generate(),
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Other("no free organization ID after 5 draws".into()).into())
    }

    /// The organization, the caller's membership and any further items of the
    /// organization's partition, in one round trip.
    pub async fn org_member_and(
        &self,
        org: &OrgId,
        user: &UserId,
        also: &[Also],
    ) -> Result<(Option<Org>, Option<Membership>, Read), StoreError> {
        let (org_at, member_at) = (key_of(&org_key(org)), key_of(&member_key(org, user)));
        let mut keys = vec![org_key(org), member_key(org, user)];
        let mut wanted = BTreeSet::new();
        for a in also {
            let key = a.key(org);
            let at = key_of(&key);
            if at != member_at && at != org_at && !wanted.contains(&at) {
                keys.push(key);
            }
            wanted.insert(at);
        }
        let mut found_org = None;
        let mut found_member = None;
        let mut extra = HashMap::new();
        for item in self.batch_get(keys).await? {
            let at = key_of(&item);
            if at == org_at {
                found_org = Some(from_item(item)?);
            } else if at == member_at {
                found_member = Some(from_item(item.clone())?);
                if wanted.contains(&at) {
                    extra.insert(at, item);
                }
            } else {
                extra.insert(at, item);
            }
        }
        Ok((found_org, found_member, Read { org: Some(org.clone()), items: extra }))
    }

    pub async fn org(&self, id: &OrgId) -> Result<Option<Org>, StoreError> {
        self.get(org_key(id)).await
    }

    /// Organizations by ID (missing ones are left out).
    pub async fn orgs(&self, ids: &[OrgId]) -> Result<Vec<Org>, StoreError> {
        self.batch_get_as(ids.iter().map(org_key).collect()).await
    }

    /// Writes a new profile with its audit entry, conditional on the version read
    /// (optimistic concurrency): `ConditionFailed` when it changed meanwhile.
    pub async fn update_org_profile(
        &self,
        org: &Org,
        profile: &OrgProfile,
        audit: &AuditEntry,
    ) -> Result<Org, StoreError> {
        let updated = org.with_profile(profile, Timestamp::now());
        let mut set = vec!["#name = :name", "version = :version", "updated_at = :now"];
        let mut remove = Vec::new();
        let mut expr = Expr::default()
            .name("#name", "name")
            .value(":name", s(&profile.name))
            .value(":version", n(updated.version))
            .value(":read", n(org.version))
            .value(":now", s(updated.updated_at.to_string()));
        let optional: [(&'static str, &'static str, Option<&str>); 6] = [
            ("short_name", "short_name = :short_name", profile.short_name.as_deref()),
            ("address", "address = :address", profile.address.as_deref()),
            ("website", "website = :website", profile.website.as_ref().map(Website::as_str)),
            ("phone", "phone = :phone", profile.phone.as_ref().map(Phone::as_str)),
            ("email", "email = :email", profile.email.as_ref().map(Email::as_str)),
            ("description", "description = :description", profile.description.as_deref()),
        ];
        for (attr, assignment, value) in optional {
            match value {
                Some(v) => {
                    set.push(assignment);
                    expr = expr.value(&format!(":{attr}"), s(v));
                }
                None => remove.push(attr),
            }
        }
        let mut update = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            update.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        expr.update = Some(update);
        let mut tx = Tx::new(&self.table);
        tx.update(org_key(&org.id), expr.when("attribute_exists(pk) AND version = :read"))?;
        add_audit(&mut tx, audit)?;
        match tx.run(self).await {
            Ok(()) => Ok(updated),
            Err(e) if e.condition_failed_at(0) => Err(StoreError::ConditionFailed),
            Err(e) => Err(e),
        }
    }
}

// What a summary reads besides the organization: the counts of the last 30 days and of
// the invitations expiring in the days ahead, all in the organization's one batch read.

/// The days a summary at a moment reads.
pub struct SummaryDays {
    /// The last [`ACTIVITY_DAYS`] days, today first.
    past: Vec<String>,
    /// Today and the days an invitation made today can still be pending on.
    coming: Vec<String>,
}

impl SummaryDays {
    pub fn at(now: Timestamp) -> Self {
        let day = |offset: i64| now.plus(time::Duration::days(offset)).day();
        SummaryDays {
            past: (0..ACTIVITY_DAYS as i64).map(|d| day(-d)).collect(),
            coming: (0..=VALID_DAYS).map(day).collect(),
        }
    }

    /// The items to read with the organization (with the counts of the journal's waiting
    /// people: 2 + 30 + 15 + 16 keys, one batch read).
    pub fn reads(&self) -> Vec<Also> {
        self.past
            .iter()
            .cloned()
            .map(Also::ActiveDay)
            .chain(self.coming.iter().cloned().map(Also::InvitationsExpiring))
            .chain(roster_count_reads())
            .collect()
    }

    /// The counts, from what was read.
    pub fn counts(&self, read: &mut Read) -> Result<DayCounts, StoreError> {
        let mut counts = DayCounts { days: self.past.clone(), ..DayCounts::default() };
        for d in &self.past {
            counts.last_active.push(read.active_on(d)?);
            counts.active.push(read.seen_on(d)?);
        }
        for d in &self.coming {
            counts.pending_invitations += read.invitations_expiring_on(d)?;
        }
        counts.waiting = read.waiting()?;
        Ok(counts)
    }
}
