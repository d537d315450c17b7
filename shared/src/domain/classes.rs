//! Classes per academic year, with rosters of their students, parents and subject
//! teachers (maps of user IDs), and the class teachers.

/// The most class teachers a class may have.
pub const MAX_CLASS_TEACHERS: usize = 10;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AcademicYear, ClassId, ClassName, OrgId, Timestamp, UserId};

/// The class IDs among text that names classes (role grants, journal records): what
/// cannot be a class's ID is left out.
pub fn class_ids<S: AsRef<str>>(raw: impl IntoIterator<Item = S>) -> BTreeSet<ClassId> {
    raw.into_iter().filter_map(|id| ClassId::parse(id.as_ref())).collect()
}

/// Which roster of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Roster {
    Students,
    Parents,
    Teachers,
}

impl Roster {
    pub const ALL: [Roster; 3] = [Roster::Students, Roster::Parents, Roster::Teachers];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClassSource {
    Manual,
    Journal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Class {
    pub id: ClassId,
    pub org_id: OrgId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter: Option<String>,
    /// The display name, `5А` or a free name.
    pub name: String,
    pub year: AcademicYear,
    pub source: ClassSource,
    #[serde(default)]
    pub graduated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graduated_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<ClassId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_to: Option<ClassId>,
    #[serde(default)]
    pub class_teacher_ids: Vec<String>,
    #[serde(default)]
    pub students: BTreeMap<String, bool>,
    #[serde(default)]
    pub parents: BTreeMap<String, bool>,
    #[serde(default)]
    pub teachers: BTreeMap<String, bool>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Class {
    pub fn new(
        org: &OrgId,
        name: &ClassName,
        year: AcademicYear,
        source: ClassSource,
        class_teacher_ids: Vec<String>,
    ) -> Self {
        let now = Timestamp::now();
        Class {
            id: ClassId::new(),
            org_id: org.clone(),
            grade: name.grade(),
            letter: name.letter().map(str::to_owned),
            name: name.display(),
            year,
            source,
            graduated: false,
            graduated_at: None,
            promoted_from: None,
            promoted_to: None,
            class_teacher_ids,
            students: BTreeMap::new(),
            parents: BTreeMap::new(),
            teachers: BTreeMap::new(),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn class_name(&self) -> ClassName {
        match self.grade {
            Some(grade) => ClassName::Graded { grade, letter: self.letter.clone().unwrap_or_default() },
            None => ClassName::Free(self.name.clone()),
        }
    }

    pub fn roster(&self, r: Roster) -> &BTreeMap<String, bool> {
        match r {
            Roster::Students => &self.students,
            Roster::Parents => &self.parents,
            Roster::Teachers => &self.teachers,
        }
    }

    /// Everyone on the class: rosters and class teachers.
    pub fn people(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> =
            self.students.keys().chain(self.parents.keys()).chain(self.teachers.keys()).cloned().collect();
        all.extend(self.class_teacher_ids.iter().cloned());
        all
    }

    /// Everyone on the class, as user IDs (entries that cannot be one are left out).
    pub fn people_ids(&self) -> Vec<UserId> {
        self.people().iter().filter_map(|u| UserId::parse(u)).collect()
    }

    pub fn has_teacher(&self, user: &UserId) -> bool {
        self.teachers.contains_key(user.as_str()) || self.class_teacher_ids.iter().any(|t| t == user.as_str())
    }

    /// The class renamed and with these class teachers: the next version.
    pub fn renamed(&self, name: &ClassName, class_teacher_ids: Vec<String>, now: Timestamp) -> Class {
        Class {
            grade: name.grade(),
            letter: name.letter().map(str::to_owned),
            name: name.display(),
            class_teacher_ids,
            version: self.version + 1,
            updated_at: now,
            ..self.clone()
        }
    }

    /// What audit entries record of a class.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name, "grade": self.grade, "letter": self.letter, "year": self.year,
            "graduated": self.graduated, "class_teacher_ids": self.class_teacher_ids,
        })
    }
}
