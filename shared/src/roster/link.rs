//! A roster record meets its person (R4.7): they become a member with the roles and
//! classes of the record (`source: journal`), and the record is linked to them. The same
//! steps serve an import finding a registered person, a first sign-in with the record's
//! verified email, and an admin confirming a link asked for by journal login.

use std::collections::BTreeSet;

use crate::domain::audit::Actor;
use crate::domain::{AuditEntry, Membership, MembershipSource, Org, OutboxEvent, RosterPerson, Timestamp, User};
use crate::domain::{Role, RoleGrant, UserId};
use crate::store::groups::{AddRecord, Entry, GroupError};
use crate::store::members::{Existing, Joined, MemberError};
use crate::store::StoreError;
use crate::Ctx;

/// What meeting the record did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// They are a member now, with the record's roles.
    Joined,
    /// They were a member already (added by hand: their roles stay); the record is
    /// linked to them.
    AlreadyMember,
    /// The record gives no role yet (a student without a class, a parent whose children
    /// have none): nothing changed.
    NotYet,
}

/// The current classes of a parent's children (their records' students' classes).
pub async fn children_classes(ctx: &Ctx, p: &RosterPerson) -> Result<Vec<String>, StoreError> {
    if p.role != Role::Parent || p.agent_ids.is_empty() {
        return Ok(Vec::new());
    }
    // Each child once: a batch read refuses a key asked twice.
    let ids: Vec<String> = p.agent_ids.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect();
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
    let named: BTreeSet<String> = grants.iter().flat_map(|g| g.class_ids.iter().cloned()).collect();
    if named.is_empty() {
        return Ok(Some(grants));
    }
    let open: BTreeSet<String> = ctx
        .store()
        .classes_by_id(&p.org_id, &named)
        .await?
        .into_iter()
        .filter(|c| !c.graduated)
        .map(|c| c.id)
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

/// Makes `user` a member as the record says and links the record to them. `by` is the
/// admin whose action it is (an import, a confirmation), or none when the person joins
/// by signing in; an admin's action tells the person by email.
pub async fn join(
    ctx: &Ctx,
    org: &Org,
    p: &RosterPerson,
    user: &User,
    by: Option<&Actor>,
) -> Result<Linked, StoreError> {
    let Some(roles) = grants(ctx, p).await? else {
        return Ok(Linked::NotYet);
    };
    let email = user.email.as_deref().filter(|_| user.email_verified);
    let m = Membership::new(&org.id, &user.id, &user.name, email, roles, false, MembershipSource::Journal);
    let actor = by.cloned().unwrap_or_else(|| Actor { id: user.id.clone(), name: user.name.clone() });
    let audit = AuditEntry::new(&org.id, &actor, "member.add", "member", user.id.as_str())
        .after(m.summary())
        .as_admin(by.is_some());
    let event = by.map(|by| OutboxEvent::MemberAdded {
        org_id: org.id.clone(),
        org_name: org.name.clone(),
        user_id: user.id.clone(),
        roles: m.roles.clone(),
        by: by.name.clone(),
    });
    let mut pending = None;
    let outcome = loop {
        let joined = Joined { pending: pending.as_ref(), by: &actor.id };
        match ctx.store().add_member(&m, joined, Some(&audit), event.as_ref()).await {
            Ok(()) => break Linked::Joined,
            Err(MemberError::AlreadyMember) => break Linked::AlreadyMember,
            // A join request of theirs ends with the membership: read it and go again.
            Err(MemberError::HasPendingRequest) if pending.is_none() => {
                pending = ctx.store().pending_join_request(&org.id, &user.id).await?;
                if pending.is_none() {
                    return Err(StoreError::Other("a pending join request came and went".into()));
                }
            }
            // A class went meanwhile: the next import (or sign-in) tries again.
            Err(MemberError::ClassUnavailable(_)) => return Ok(Linked::NotYet),
            Err(e) => return Err(member_store_error(e)),
        }
    };
    ctx.store().link_roster_person(&org.id, &p.sourced_id, &user.id, Timestamp::now()).await?;
    if outcome == Linked::Joined {
        lead_classes(ctx, org, p, &user.id, &actor).await?;
        take_courses(ctx, org, p, &m, &actor).await?;
    }
    Ok(outcome)
}

/// After an admin accepted a person's request to link a roster record (its roles were
/// the record's): the record is linked to them, and they lead the classes it says.
pub async fn confirmed(ctx: &Ctx, org: &Org, sourced_id: &str, m: &Membership, by: &Actor) -> Result<(), StoreError> {
    let Some(p) = ctx.store().roster_person(&org.id, sourced_id).await? else { return Ok(()) };
    ctx.store().link_roster_person(&org.id, sourced_id, &m.user_id, Timestamp::now()).await?;
    lead_classes(ctx, org, &p, &m.user_id, by).await?;
    take_courses(ctx, org, &p, m, by).await
}

/// A person signing in with a verified email joins every organization whose journal
/// lists that email and waits for them. The organizations they joined.
pub async fn on_sign_in(ctx: &Ctx, user: &User) -> Result<Vec<crate::domain::OrgId>, StoreError> {
    let Some(email) = user.email.as_deref().filter(|_| user.email_verified) else { return Ok(Vec::new()) };
    let mut joined = Vec::new();
    for p in ctx.store().roster_people_by_email(email).await? {
        if p.user_id.is_some() {
            continue;
        }
        let Some(org) = ctx.store().org(&p.org_id).await? else { continue };
        // One school's failure never keeps the person out of the others, nor out of
        // their profile: it is logged, and their next sign-in with a new email or the
        // school's next import tries again.
        match join(ctx, &org, &p, user, None).await {
            Ok(Linked::Joined) => joined.push(org.id.clone()),
            Ok(_) => {}
            Err(e) => {
                tracing::error!(org = %org.id, roster = %p.sourced_id, error = %e, "joining from a roster record failed")
            }
        }
    }
    Ok(joined)
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
    let audit =
        AuditEntry::new(&org.id, by, "member.update", "member", m.user_id.as_str()).before(m.summary()).as_admin(true);
    match ctx.store().update_member_roles(m, roles, Some(&audit)).await {
        Ok(_) => {}
        // Changed meanwhile (the person or an admin): the next import follows again.
        Err(MemberError::Changed) | Err(MemberError::ClassUnavailable(_)) => return Ok(false),
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
    let classes: BTreeSet<String> = if ids.is_empty() {
        BTreeSet::new()
    } else {
        ctx.store().classes_by_id(&org.id, &ids).await?.into_iter().map(|c| c.id).collect()
    };
    let courses: Vec<String> =
        m.course_ids.iter().chain(&m.teaching_course_ids).cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let (groups, courses) = ctx.store().existing(&org.id, &m.group_ids, &courses).await?;
    let audit =
        AuditEntry::new(&org.id, by, "member.remove", "member", m.user_id.as_str()).before(m.summary()).as_admin(true);
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
    let ids: BTreeSet<String> = led.into_iter().collect();
    for class in ctx.store().classes_by_id(&org.id, &ids).await? {
        if class.graduated || class.class_teacher_ids.iter().any(|t| t == user.as_str()) {
            continue;
        }
        let mut teachers = class.class_teacher_ids.clone();
        teachers.push(user.to_string());
        let new = class.renamed(&class.class_name(), teachers, Timestamp::now());
        let audit = AuditEntry::new(&org.id, by, "class.update", "class", &class.id)
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
    for id in studies.iter().filter(|c| !m.course_ids.contains(c)) {
        let audit = |users: &[UserId]| {
            AuditEntry::new(&org.id, by, "course.students_add", "course", id)
                .after(serde_json::json!({ "user_ids": users }))
        };
        let event = |_: &[UserId]| None;
        let record = AddRecord { audit: &audit, event: &event };
        match store.add_places(Entry::Enrol, &org.id, id, std::slice::from_ref(m), &by.id, &record).await {
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
        new.teacher_ids.push(m.user_id.to_string());
        new.version = course.version + 1;
        new.updated_at = Timestamp::now();
        let audit = AuditEntry::new(&org.id, by, "course.update", "course", id)
            .after(serde_json::json!({ "teacher_ids": new.teacher_ids }));
        match store.update_course(&course, &new, &audit).await {
            Ok(()) => {}
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
