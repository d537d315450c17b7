//! Store failures and refusals as problems: the one place that says which refusal
//! answers with which status and code.

use crate::http::ApiError;
use crate::store::StoreError;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => ApiError::invalid_cursor(),
            e => ApiError::Internal(e.to_string()),
        }
    }
}
