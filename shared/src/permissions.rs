//! What a function touches. Each entry of the route table (and each stream consumer)
//! declares it; the template generator derives the function's least-privilege IAM policy
//! from it, the function builds at init only the clients it names, and the local gateway
//! refuses any AWS call a route makes beyond it, so the declarations are tested by every
//! integration test.

/// A private bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Group files (`FilesBucket`): uploads, then ready files.
    Files,
    /// Statistics exports and roster imports' uploads (`ExportsBucket`).
    Exports,
}

impl Bucket {
    /// Its logical name in the template.
    pub const fn resource(self) -> &'static str {
        match self {
            Bucket::Files => "FilesBucket",
            Bucket::Exports => "ExportsBucket",
        }
    }
}

/// What a function may do with the objects under a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectAction {
    /// `s3:GetObject`: GET and HEAD, presigned downloads, a copy's source.
    Read,
    /// `s3:PutObject`: PUT, presigned uploads, a multipart upload's parts, a copy's target.
    Write,
    /// `s3:DeleteObject`.
    Delete,
    /// `s3:AbortMultipartUpload`: gives up a multipart upload (its parts go).
    Abort,
}

impl ObjectAction {
    /// The IAM action it is.
    pub const fn iam(self) -> &'static str {
        match self {
            ObjectAction::Read => "s3:GetObject",
            ObjectAction::Write => "s3:PutObject",
            ObjectAction::Delete => "s3:DeleteObject",
            ObjectAction::Abort => "s3:AbortMultipartUpload",
        }
    }
}

/// Objects a function may touch: those of `bucket` whose key starts with `prefix`, with
/// `actions` only. The policy's resource is `<bucket ARN>/<prefix>*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objects {
    pub bucket: Bucket,
    /// Ends with `/` (`uploads/`), or is empty for the whole bucket.
    pub prefix: &'static str,
    pub actions: &'static [ObjectAction],
}

impl Objects {
    pub const fn new(bucket: Bucket, prefix: &'static str, actions: &'static [ObjectAction]) -> Objects {
        Objects { bucket, prefix, actions }
    }

    /// Whether `action` on the object `key` of `bucket` is allowed.
    pub fn allows(&self, bucket: Bucket, action: ObjectAction, key: &str) -> bool {
        self.bucket == bucket && self.actions.contains(&action) && key.starts_with(self.prefix)
    }
}

/// What one function may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// GetItem, BatchGetItem, Query on the table.
    pub table_read: bool,
    /// PutItem, UpdateItem, DeleteItem, ConditionCheckItem (also inside transactions).
    pub table_write: bool,
    /// The global secondary indexes it queries, by name (`gsi1`, `gsi2`).
    pub indexes: &'static [&'static str],
    /// The objects it touches, by bucket and prefix, and how.
    pub objects: &'static [Objects],
    /// Sends email through SES.
    pub mail: bool,
    /// Reads the invitation links' key (`secretsmanager:GetSecretValue` on that one secret),
    /// which derives links' tokens.
    pub link_keys: bool,
}

impl Access {
    /// Touches nothing (the OpenAPI document, the fallback).
    pub const NONE: Access =
        Access { table_read: false, table_write: false, indexes: &[], objects: &[], mail: false, link_keys: false };
    /// Reads the table.
    pub const READ: Access = Access { table_read: true, ..Access::NONE };
    /// Reads and writes the table. Every organization-scoped route writes: a member's first
    /// request of a day records their activity.
    pub const READ_WRITE: Access = Access { table_read: true, table_write: true, ..Access::NONE };
    /// Everything (the local gateway, which serves every route).
    pub const ALL: Access = Access {
        table_read: true,
        table_write: true,
        indexes: &["gsi1", "gsi2"],
        objects: &[
            Objects::new(Bucket::Files, "", &ALL_OBJECT_ACTIONS),
            Objects::new(Bucket::Exports, "", &ALL_OBJECT_ACTIONS),
        ],
        mail: true,
        link_keys: true,
    };

    /// Also queries these indexes.
    pub const fn indexes(self, indexes: &'static [&'static str]) -> Access {
        Access { indexes, ..self }
    }

    /// Also touches these objects.
    pub const fn objects(self, objects: &'static [Objects]) -> Access {
        Access { objects, ..self }
    }

    /// Whether it calls S3 at all (the client is built at init only then).
    pub const fn touches_s3(&self) -> bool {
        !self.objects.is_empty()
    }

    /// Whether `action` on the object `key` of `bucket` is declared.
    pub fn allows_s3(&self, bucket: Bucket, action: ObjectAction, key: &str) -> bool {
        self.objects.iter().any(|o| o.allows(bucket, action, key))
    }

    pub const fn mail(self) -> Access {
        Access { mail: true, ..self }
    }

    /// Also reads the invitation links' key.
    pub const fn link_keys(self) -> Access {
        Access { link_keys: true, ..self }
    }

    /// Whether a Secrets Manager call is allowed: reading the links' key, when declared.
    pub fn allows_secret(&self, action: &str) -> bool {
        self.link_keys && action == "GetSecretValue"
    }

    pub fn touches_table(&self) -> bool {
        self.table_read || self.table_write
    }

    /// Whether a DynamoDB action (`GetItem`, `Query`, ...) is allowed, on the table or on
    /// the index named.
    pub fn allows_dynamodb(&self, action: &str, index: Option<&str>) -> bool {
        if let Some(index) = index {
            return action == "Query" && self.indexes.contains(&index);
        }
        match action {
            "GetItem" | "BatchGetItem" | "Query" => self.table_read,
            "PutItem" | "UpdateItem" | "DeleteItem" | "ConditionCheckItem" => self.table_write,
            _ => false,
        }
    }

    /// The DynamoDB actions the IAM policy grants on the table itself, in a stable order
    /// (an index is granted `dynamodb:Query` on its own ARN).
    pub fn dynamodb_actions(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.table_read {
            out.extend(["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]);
        }
        if self.table_write {
            out.extend([
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem",
            ]);
        }
        out
    }
}

const ALL_OBJECT_ACTIONS: [ObjectAction; 4] =
    [ObjectAction::Read, ObjectAction::Write, ObjectAction::Delete, ObjectAction::Abort];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_indexes_are_separate_rights() {
        let read = Access::READ;
        assert!(read.allows_dynamodb("GetItem", None) && read.allows_dynamodb("Query", None));
        assert!(!read.allows_dynamodb("PutItem", None));
        assert!(!read.allows_dynamodb("Query", Some("gsi1")));
        let rw = Access::READ_WRITE.indexes(&["gsi1"]);
        assert!(rw.allows_dynamodb("ConditionCheckItem", None));
        assert!(rw.allows_dynamodb("Query", Some("gsi1")) && !rw.allows_dynamodb("Query", Some("gsi2")));
        assert!(!rw.allows_dynamodb("Scan", None) && !rw.allows_dynamodb("DeleteTable", None));
        assert!(Access::NONE.dynamodb_actions().is_empty());
        assert_eq!(Access::READ.dynamodb_actions(), ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]);
    }

    #[test]
    fn objects_are_allowed_under_their_prefix_and_with_their_actions_only() {
        const UPLOADS: &[Objects] = &[Objects::new(Bucket::Files, "uploads/", &[ObjectAction::Write])];
        let access = Access::READ_WRITE.objects(UPLOADS);
        assert!(access.touches_s3() && !Access::READ_WRITE.touches_s3());
        assert!(access.allows_s3(Bucket::Files, ObjectAction::Write, "uploads/o/g/f"));
        // Another prefix, another action, another bucket: refused.
        assert!(!access.allows_s3(Bucket::Files, ObjectAction::Write, "files/o/g/f"));
        assert!(!access.allows_s3(Bucket::Files, ObjectAction::Write, "uploads"));
        assert!(!access.allows_s3(Bucket::Files, ObjectAction::Read, "uploads/o/g/f"));
        assert!(!access.allows_s3(Bucket::Files, ObjectAction::Delete, "uploads/o/g/f"));
        assert!(!access.allows_s3(Bucket::Exports, ObjectAction::Write, "uploads/o/g/f"));
        assert!(!Access::NONE.allows_s3(Bucket::Files, ObjectAction::Read, "files/x"));
        assert!(Access::ALL.allows_s3(Bucket::Exports, ObjectAction::Abort, "exports/x"));
    }

    #[test]
    fn the_links_key_is_read_only_where_declared() {
        assert!(!Access::READ_WRITE.allows_secret("GetSecretValue"));
        let keys = Access::READ_WRITE.link_keys();
        assert!(keys.allows_secret("GetSecretValue"));
        assert!(!keys.allows_secret("PutSecretValue") && !keys.allows_secret("ListSecrets"));
    }
}
