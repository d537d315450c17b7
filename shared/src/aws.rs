//! What an AWS SDK error means for an answer. Throttling and unavailability that outlast
//! the SDK's own retries (DynamoDB's throughput and throttling errors, a 500 of the
//! service, S3's SlowDown, a timeout, a connection that failed) are worth retrying later:
//! they are answered 503 `unavailable` with `Retry-After`, never 500. Anything else (a
//! request the service refused, a failure of ours) stays internal.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// The error codes that say "not now": DynamoDB's, S3's and SES's throttling and
/// server-side failures.
pub const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "SlowDown",
    "InternalError",
    "TooManyRequestsException",
];

/// The cancellation reasons of a transaction that say "not now" rather than "no".
pub const UNAVAILABLE_REASONS: &[&str] = &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];

/// The error codes the SDK does not retry by itself but that are worth a retry at once:
/// a single write that met an item in another transaction's way.
pub const RETRIED_CODES: &[&str] = &["TransactionConflictException"];

/// The table's client settings: the SDK's retries as `aws` sets them, and a single write
/// that conflicted with a transaction (TransactionConflictException, which the SDK leaves
/// alone) retried with them, as DynamoDB's guide advises, rather than failed at once.
pub fn dynamodb_config(aws: &aws_types::SdkConfig) -> aws_sdk_dynamodb::config::Builder {
    use aws_runtime::retries::classifiers::AwsErrorCodeClassifier;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    use aws_sdk_dynamodb::operation::{delete_item::DeleteItemError, put_item::PutItemError};
    aws_sdk_dynamodb::config::Builder::from(aws)
        .retry_classifier(AwsErrorCodeClassifier::<PutItemError>::builder().transient_errors(RETRIED_CODES).build())
        .retry_classifier(AwsErrorCodeClassifier::<UpdateItemError>::builder().transient_errors(RETRIED_CODES).build())
        .retry_classifier(AwsErrorCodeClassifier::<DeleteItemError>::builder().transient_errors(RETRIED_CODES).build())
}

/// The table's client, with [`dynamodb_config`]'s settings.
pub fn dynamodb_client(aws: &aws_types::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(dynamodb_config(aws).build())
}

/// Whether `err` is throttling or unavailability (see the module's docs).
pub fn unavailable<E: ProvideErrorMetadata>(err: &SdkError<E, Response>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            service.err().code().is_some_and(|code| UNAVAILABLE_CODES.contains(&code))
                // S3 answers a HEAD's 503 SlowDown without a body, so without a code.
                || service.raw().status().as_u16() == 503
        }
        _ => false,
    }
}

/// Whether a cancelled transaction's reasons say "not now": one of them is a conflict or
/// throttling, and no condition failed.
pub fn unavailable_reasons(reasons: &[String]) -> bool {
    reasons.iter().any(|r| UNAVAILABLE_REASONS.contains(&r.as_str()))
        && !reasons.iter().any(|r| r == "ConditionalCheckFailed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service(code: Option<&str>, status: u16) -> SdkError<PutItemError, Response> {
        let mut meta = ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code);
        }
        let raw = Response::new(StatusCode::try_from(status).unwrap(), SdkBody::empty());
        SdkError::service_error(PutItemError::generic(meta.build()), raw)
    }

    #[test]
    fn throttling_and_failures_of_aws_are_unavailable_refusals_are_not() {
        for code in ["ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError", "SlowDown"]
        {
            assert!(unavailable(&service(Some(code), 400)), "{code}");
        }
        assert!(unavailable(&service(None, 503)), "a HEAD's SlowDown has no code");
        assert!(unavailable(&SdkError::<PutItemError, Response>::timeout_error("slow")));
        for code in ["ConditionalCheckFailedException", "ValidationException", "ResourceNotFoundException"] {
            assert!(!unavailable(&service(Some(code), 400)), "{code}");
        }
        assert!(!unavailable(&service(Some("InternalFailure"), 500)), "the emulator's own failure stays a 500");
    }

    #[test]
    fn a_transaction_cancelled_for_conflicts_is_unavailable_a_failed_condition_is_not() {
        let reasons = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(unavailable_reasons(&reasons(&["TransactionConflict", "None"])));
        assert!(unavailable_reasons(&reasons(&["None", "ThrottlingError"])));
        assert!(!unavailable_reasons(&reasons(&["TransactionConflict", "ConditionalCheckFailed"])));
        assert!(!unavailable_reasons(&reasons(&["None", "ConditionalCheckFailed"])));
    }
}
