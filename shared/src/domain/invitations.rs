//! Email invitations (R4.5): an admin or teacher invites an address; the person, once
//! signed in with that verified address, accepts and becomes a member.

/// The most addresses one request invites.
pub const MAX_EMAILS: usize = 100;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long an invitation (and each resend) is valid.
pub const VALID_DAYS: i64 = 14;

use super::{GroupId, InvitationId, OrgId, RoleGrant, Timestamp, UserId};

/// Invitation emails an organization may send in one UTC day (new invitations and
/// resends): enough to invite a whole school of 2,000 in two days, not a spam cannon.
pub const DAILY_INVITATION_EMAILS: u32 = 1000;

/// The least time between two resends of one invitation (its first resend is always
/// allowed).
pub const RESEND_INTERVAL_SECS: i64 = 10 * 60;

/// Seconds until `invitation` may be sent again (0: now).
pub fn resend_wait(invitation: &Invitation, now: Timestamp) -> u64 {
    if invitation.send_count < 2 {
        return 0;
    }
    let next = invitation.last_sent_at.unix() + RESEND_INTERVAL_SECS;
    (next - now.unix()).max(0) as u64
}

/// Seconds from `now` to the next UTC midnight (when the daily limit starts again).
pub fn until_next_day(now: Timestamp) -> u64 {
    (86_400 - now.unix().rem_euclid(86_400)) as u64
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    Revoked,
}

/// What became of an invitation's email, as SES told (R8.4): `sent` while no failure is
/// known; `bounced` (a hard bounce) or `complained` (marked as spam) for good.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    #[default]
    Sent,
    Bounced,
    Complained,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::Bounced => "bounced",
            Delivery::Complained => "complained",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub org_id: OrgId,
    /// Lower-cased.
    pub email: String,
    pub role: RoleGrant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<GroupId>,
    /// The group's name when invited (for the email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    pub status: InvitationStatus,
    pub invited_by: UserId,
    pub invited_by_name: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_sent_at: Timestamp,
    pub send_count: u32,
    pub version: u64,
    /// Whether its email bounced or was marked as spam (set by the mail events' consumer).
    #[serde(default)]
    pub delivery: Delivery,
}

impl Invitation {
    /// Pending and not yet expired.
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.status == InvitationStatus::Pending && self.expires_at > now
    }
}

#[cfg(test)]
mod limit_tests {
    use super::*;

    fn sent(count: u32, at: Timestamp) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            org_id: OrgId::parse("k7m3xq9pza").unwrap(),
            email: "a@b.ru".into(),
            role: RoleGrant::staff("x"),
            group_id: None,
            group_name: None,
            status: InvitationStatus::Pending,
            invited_by: UserId::parse("u1").unwrap(),
            invited_by_name: "A".into(),
            created_at: at,
            expires_at: at,
            last_sent_at: at,
            send_count: count,
            version: 1,
            delivery: Delivery::Sent,
        }
    }

    #[test]
    fn the_first_resend_is_free_later_ones_wait_ten_minutes() {
        let now = Timestamp::now();
        assert_eq!(resend_wait(&sent(1, now), now), 0);
        assert_eq!(resend_wait(&sent(2, now), now), 600);
        assert_eq!(resend_wait(&sent(2, now), now.plus(time::Duration::minutes(4))), 360);
        assert_eq!(resend_wait(&sent(3, now), now.plus(time::Duration::minutes(10))), 0);
    }

    #[test]
    fn the_day_ends_at_utc_midnight() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        assert_eq!(until_next_day(t("2026-11-23T23:59:00Z")), 60);
        assert_eq!(until_next_day(t("2026-11-23T00:00:00Z")), 86_400);
    }
}
