//! A roster record meets its person (R4.7), only ever by their consent: the owner of the
//! record's verified email accepts its offer (an invitation of kind `journal`), or an
//! admin accepts the person's request to link by journal login. They become a member
//! with the roles and classes of the record (`source: journal`), linked to it. An import
//! never makes anyone a member; it keeps the members who joined in step with the journal.

use std::collections::BTreeSet;

use crate::domain::audit::Actor;
use crate::domain::AuditAction;
use crate::domain::{
    AuditEntry, Course, Membership, MembershipSource, Org, OutboxEvent, RosterPerson, Timestamp, User,
};
use crate::domain::{CourseId, PlaceIn, Role, RoleGrant, SourcedId, UserId};
use crate::store::groups::{AddRecord, Entry, GroupError};
use crate::store::members::{Existing, MemberError};
use crate::store::roster::RecordJoinError;
use crate::store::StoreError;
use crate::Ctx;

/// Why an offer could not be accepted.
#[derive(Debug)]
pub enum OfferError {
    /// The record no longer offers membership to this email: someone joined as it, the
    /// journal gives another email now, or the offer was declined.
    NotOpen,
    /// The record gives no role yet (a student without a class, a parent whose children
    /// have none, a class gone meanwhile).
    NoRoleYet,
    /// Their join request changed meanwhile, twice: retry.
    Busy,
    Store(StoreError),
}

impl From<StoreError> for OfferError {
    fn from(e: StoreError) -> Self {
        OfferError::Store(e)
    }
}

/// What accepting an offer did.
#[derive(Debug)]
pub enum Accepted {
    /// They are a member now, with the record's roles and classes.
    Joined(Membership),
    /// They were a member already (their roles, set by an admin, stay); the record is
    /// linked to them now.
    AlreadyMember(Membership),
}

/// The current classes of a parent's children (their records' students' classes).
pub async fn children_classes(ctx: &Ctx, p: &RosterPerson) -> Result<Vec<String>, StoreError> {
    if p.role != Role::Parent || p.agent_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Each child once: a batch read refuses a key asked twice.
    let ids: Vec<SourcedId> = p.agent_ids.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let children = ctx.store().roster_people(&p.org_id, &ids).await?;
    let mut classes: Vec<String> = Vec::new();
    for id in &p.agent_ids {
        if let Some(c) = children.get(id).and_then(|c| c.record.student_class()) {
            if !classes.iter().any(|k| k == c) {
                classes.push(c.to_string());
            }
        }
    }
    Ok(classes)
}

/// The roles the record gives now, if any: with the classes that still exist and have
/// not graduated (a student or parent left with none gets no role yet).
pub async fn grants(ctx: &Ctx, p: &RosterPerson) -> Result<Option<Vec<RoleGrant>>, StoreError> {
    let children = children_classes(ctx, p).await?;
    let Some(mut grants) = p.grants(&children) else { return Ok(None) };
    let named = crate::domain::classes::class_ids(grants.iter().flat_map(|g| g.class_ids.iter()));
    if named.is_empty() {
        return Ok(Some(grants));
    }
    let open: BTreeSet<String> = ctx
        .store()
        .classes_by_id(&p.org_id, &named)
        .await?
        .into_iter()
        .filter(|c| !c.graduated)
        .map(|c| c.id.to_string())
        .collect();
    for g in &mut grants {
        g.class_ids.retain(|c| open.contains(c));
    }
    let needs_class = |g: &RoleGrant| matches!(g.role, Role::Student | Role::Parent);
    if grants.iter().any(|g| needs_class(g) && g.class_ids.is_empty()) {
        return Ok(None);
    }
    Ok(Some(grants))
}

/// The owner of the record's email accepts its offer (their own consent, R4.7): they
/// become a member with the record's roles and classes (`source: journal`), and the
/// record is linked to them (and leaves the waiting counts) in the same transaction, on
/// the condition that nobody joined as it and it still names `email` (their verified
/// address). Then they lead the classes
/// and take the courses the journal gives them.
pub async fn accept_offer(
    ctx: &Ctx,
    org: &Org,
    p: &RosterPerson,
    user: &User,
    email: &str,
) -> Result<Accepted, OfferError> {
    if !p.offers_to(email) {
        return Err(OfferError::NotOpen);
    }
    let Some(roles) = grants(ctx, p).await? else {
        return Err(OfferError::NoRoleYet);
    };
    let m = Membership::new(&org.id, &user.id, &user.name, Some(email), roles, false, MembershipSource::Journal);
    let actor = Actor { id: user.id.clone(), name: user.name.clone() };
    let audit = AuditEntry::new(&org.id, &actor, AuditAction::InvitationAccept, "roster", p.sourced_id.as_str())
        .after(m.summary());
    let mut pending = None;
    loop {
        match ctx.store().join_as_record(&m, p, email, pending.as_ref(), &audit).await {
            Ok(()) => break,
            Err(RecordJoinError::AlreadyMember) => {
                if !ctx.store().link_roster_person(&org.id, p, &user.id, email, Timestamp::now()).await? {
                    return Err(OfferError::NotOpen);
                }
                let current = ctx.store().membership(&org.id, &user.id).await?;
                return current.map(Accepted::AlreadyMember).ok_or(OfferError::NotOpen);
            }
            Err(RecordJoinError::RecordTaken) => return Err(OfferError::NotOpen),
            // A join request of theirs ends with the membership: read it and go again.
            Err(RecordJoinError::HasPendingRequest) if pending.is_none() => {
                pending = ctx.store().pending_join_request(&org.id, &user.id).await?;
                if pending.is_none() {
                    return Err(OfferError::Busy);
                }
            }
            Err(RecordJoinError::HasPendingRequest) => return Err(OfferError::Busy),
            Err(RecordJoinError::ClassUnavailable(_)) => return Err(OfferError::NoRoleYet),
            Err(RecordJoinError::Store(e)) => return Err(e.into()),
        }
    }
    lead_classes(ctx, org, p, &user.id, &actor).await?;
    take_courses(ctx, org, p, &m, &actor).await?;
    Ok(Accepted::Joined(m))
}

/// After an admin accepted a person's request to link a roster record (the record linked
/// to them and its roles given in that transaction): they lead the classes it says and
/// take its courses.
pub async fn confirmed(ctx: &Ctx, org: &Org, p: &RosterPerson, m: &Membership, by: &Actor) -> Result<(), StoreError> {
    lead_classes(ctx, org, p, &m.user_id, by).await?;
    take_courses(ctx, org, p, m, by).await
}

/// A linked member's roles as the record now says (only for a membership that came from
/// the journal: one an admin made keeps its roles). True when they changed.
pub async fn follow(ctx: &Ctx, org: &Org, p: &RosterPerson, m: &Membership, by: &Actor) -> Result<bool, StoreError> {
    if m.source != MembershipSource::Journal {
        return Ok(false);
    }
    let Some(roles) = grants(ctx, p).await? else {
        return Ok(false);
    };
    if roles == m.roles {
        lead_classes(ctx, org, p, &m.user_id, by).await?;
        take_courses(ctx, org, p, m, by).await?;
        return Ok(false);
    }
    let audit = AuditEntry::new(&org.id, by, AuditAction::MemberUpdate, "member", m.user_id.as_str())
        .before(m.summary())
        .as_admin(true);
    match ctx.store().update_member_roles(m, roles, Some(&audit)).await {
        Ok(_) => {}
        // Changed meanwhile (the person or an admin): the next import follows again.
        Err(MemberError::Changed) | Err(MemberError::ClassUnavailable { .. }) => return Ok(false),
        Err(e) => return Err(member_store_error(e)),
    }
    lead_classes(ctx, org, p, &m.user_id, by).await?;
    take_courses(ctx, org, p, m, by).await?;
    Ok(true)
}

/// Ends a journal membership whose record the journal deleted (one an admin made stays).
pub async fn leave(ctx: &Ctx, org: &Org, m: &Membership, by: &Actor) -> Result<(), StoreError> {
    if m.source != MembershipSource::Journal || m.admin {
        return Ok(());
    }
    let ids = m.class_ids();
    let classes: BTreeSet<crate::domain::ClassId> = if ids.is_empty() {
        BTreeSet::new()
    } else {
        ctx.store().classes_by_id(&org.id, &ids).await?.into_iter().map(|c| c.id).collect()
    };
    let courses: Vec<CourseId> =
        m.course_ids.iter().chain(&m.teaching_course_ids).cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let (groups, courses) = ctx.store().existing(&org.id, &m.group_ids, &courses).await?;
    let audit = AuditEntry::new(&org.id, by, AuditAction::MemberRemove, "member", m.user_id.as_str())
        .before(m.summary())
        .as_admin(true);
    match ctx.store().remove_member(m, &classes, &Existing { groups, courses }, Some(&audit)).await {
        Ok(()) | Err(MemberError::NotMember) | Err(MemberError::Changed) | Err(MemberError::LastAdmin) => Ok(()),
        Err(e) => Err(member_store_error(e)),
    }
}

/// Lists a teacher as the class teacher of the classes their record leads (`primary`).
async fn lead_classes(ctx: &Ctx, org: &Org, p: &RosterPerson, user: &UserId, by: &Actor) -> Result<(), StoreError> {
    let (_, led) = p.taught();
    if p.role != Role::Teacher || led.is_empty() {
        return Ok(());
    }
    let ids = crate::domain::classes::class_ids(led);
    for class in ctx.store().classes_by_id(&org.id, &ids).await? {
        if class.graduated || class.class_teacher_ids.iter().any(|t| t == user.as_str()) {
            continue;
        }
        let mut teachers = class.class_teacher_ids.clone();
        teachers.push(user.to_string());
        let new = class.renamed(&class.class_name(), teachers, Timestamp::now());
        let audit = AuditEntry::new(&org.id, by, AuditAction::ClassUpdate, "class", &class.id)
            .before(class.summary())
            .after(new.summary());
        // A class changed meanwhile keeps its class teachers until the next import.
        let _ = ctx.store().update_class(&class, &new, &audit).await;
    }
    Ok(())
}

/// Places a member in the courses their record studies (a student), and among the
/// teachers of those it teaches (a teacher). A course gone or changed meanwhile is left
/// for the next import; a place the member left is not taken again unless the journal
/// changes.
async fn take_courses(ctx: &Ctx, org: &Org, p: &RosterPerson, m: &Membership, by: &Actor) -> Result<(), StoreError> {
    let (studies, teaches) = p.courses();
    let store = ctx.store();
    let (studies, teaches): (Vec<CourseId>, Vec<CourseId>) = (
        studies.iter().filter_map(|c| CourseId::parse(c)).collect(),
        teaches.iter().filter_map(|c| CourseId::parse(c)).collect(),
    );
    for id in studies.iter().filter(|c| !m.course_ids.contains(c)) {
        let audit = |users: &[UserId]| {
            AuditEntry::new(&org.id, by, AuditAction::CourseStudentsAdd, "course", id)
                .after(serde_json::json!({ "user_ids": users }))
        };
        let event = |_: &[UserId]| None;
        let record = AddRecord { audit: &audit, event: &event };
        match store
            .add_places(Entry::Enrol, &org.id, PlaceIn::Course(id), std::slice::from_ref(m), &by.id, &record)
            .await
        {
            Ok(_) => {}
            Err(GroupError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    for id in teaches.iter().filter(|c| !m.teaching_course_ids.contains(c)) {
        let Some(course) = store.course(&org.id, id).await? else { continue };
        if course.has_teacher(&m.user_id) {
            continue;
        }
        let mut new = course.clone();
        new.teacher_ids.push(m.user_id.clone());
        new.version = course.version + 1;
        new.updated_at = Timestamp::now();
        let audit = AuditEntry::new(&org.id, by, AuditAction::CourseUpdate, "course", id)
            .after(serde_json::json!({ "teacher_ids": new.teacher_ids }));
        match store.update_course(&course, &new, &audit).await {
            Ok(()) => seat_in_linked_groups(ctx, org, &new, m, by).await?,
            Err(GroupError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(())
}

fn member_store_error(e: MemberError) -> StoreError {
    match e {
        MemberError::Store(e) => e,
        other => StoreError::Other(format!("{other:?}")),
    }
}

/// A teacher who joined a course joins its linked groups as their teacher (each with the
/// "added to group" email). A group gone or unlinked meanwhile is left as it is.
async fn seat_in_linked_groups(
    ctx: &Ctx,
    org: &Org,
    course: &Course,
    m: &Membership,
    by: &Actor,
) -> Result<(), StoreError> {
    let store = ctx.store();
    for group in store.groups_by_id(&org.id, &course.linked_group_ids).await? {
        let audit = |users: &[UserId]| {
            AuditEntry::new(&org.id, by, AuditAction::GroupMembersAdd, "group", &group.id)
                .after(serde_json::json!({ "user_ids": users, "group_role": "teacher" }))
        };
        let event = |users: &[UserId]| {
            Some(OutboxEvent::AddedToGroup {
                org_id: org.id.clone(),
                org_name: org.name.clone(),
                group_id: group.id.to_string(),
                group_name: group.name.clone(),
                user_ids: users.to_vec(),
                by: by.name.clone(),
            })
        };
        let record = AddRecord { audit: &audit, event: &event };
        match store.seat_teachers(&org.id, &course.id, &group.id, std::slice::from_ref(m), &by.id, &record).await {
            Ok(_) => {}
            Err(GroupError::Store(e)) => return Err(e),
            Err(_) => {}
        }
    }
    Ok(())
}
