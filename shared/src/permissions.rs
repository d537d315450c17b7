//! What a function touches. Each entry of the route table (and each stream consumer)
//! declares it; the template generator derives the function's least-privilege IAM policy
//! from it, the function builds at init only the clients it names, and the local gateway
//! refuses any AWS call a route makes beyond it, so the declarations are tested by every
//! integration test.

/// Access to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    None,
    /// GetObject, HeadObject (and presigned downloads).
    Read,
    /// Read, plus PutObject and DeleteObject (and presigned uploads, and copies).
    ReadWrite,
    /// PutObject and AbortMultipartUpload only: writes files (in parts), reads none.
    Write,
}

impl Bucket {
    pub const fn any(self) -> bool {
        !matches!(self, Bucket::None)
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
    pub files: Bucket,
    pub exports: Bucket,
    /// Sends email through SES.
    pub mail: bool,
}

impl Access {
    /// Touches nothing (the OpenAPI document, the fallback).
    pub const NONE: Access = Access {
        table_read: false,
        table_write: false,
        indexes: &[],
        files: Bucket::None,
        exports: Bucket::None,
        mail: false,
    };
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
        files: Bucket::ReadWrite,
        exports: Bucket::ReadWrite,
        mail: true,
    };

    /// Also queries these indexes.
    pub const fn indexes(self, indexes: &'static [&'static str]) -> Access {
        Access { indexes, ..self }
    }

    pub const fn files(self, files: Bucket) -> Access {
        Access { files, ..self }
    }

    pub const fn exports(self, exports: Bucket) -> Access {
        Access { exports, ..self }
    }

    pub const fn mail(self) -> Access {
        Access { mail: true, ..self }
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

/// The S3 actions a bucket access grants.
pub fn s3_actions(b: Bucket) -> &'static [&'static str] {
    match b {
        Bucket::None => &[],
        Bucket::Read => &["s3:GetObject"],
        Bucket::ReadWrite => &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Bucket::Write => &["s3:PutObject", "s3:AbortMultipartUpload"],
    }
}

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
}
