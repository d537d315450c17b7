//! Least privilege, checked locally. In AWS each function's IAM policy (generated from its
//! declared [`Access`]) refuses what it does not allow; here one process serves every
//! route, so the SDK clients carry an interceptor that refuses any call the route being
//! served has not declared. Every integration test thus checks the declarations the
//! template's policies are made from.

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use kabinet::permissions::{Access, Bucket, ObjectAction};

tokio::task_local! {
    /// The function being served (its name and declared access) on this task.
    static SERVING: (&'static str, Access);
}

/// Runs `fut` as the function `name` with its declared `access`: every AWS call it makes
/// through the checked clients must be declared.
pub async fn serving<F: std::future::Future>(name: &'static str, access: Access, fut: F) -> F::Output {
    SERVING.scope((name, access), fut).await
}

/// Refuses AWS calls that the function being served did not declare. Calls made outside
/// any function (setting up the emulator, tests looking under the API) pass.
#[derive(Debug, Clone, Default)]
pub struct AccessCheck {
    /// The names of the files and exports buckets (an object call names one of them).
    buckets: Option<(String, String)>,
}

impl AccessCheck {
    /// A check that knows the buckets of `config` (S3 calls name them).
    pub fn with_buckets(config: &kabinet::config::Config) -> AccessCheck {
        AccessCheck { buckets: Some((config.files_bucket.clone(), config.exports_bucket.clone())) }
    }

    fn bucket(&self, name: Option<&str>) -> Option<Bucket> {
        let (files, exports) = self.buckets.as_ref()?;
        match name? {
            n if n == files => Some(Bucket::Files),
            n if n == exports => Some(Bucket::Exports),
            _ => None,
        }
    }

    /// The S3 actions a call needs that `access` does not declare, in words.
    fn s3_refused(&self, access: &Access, operation: &str, input: &Input) -> Vec<String> {
        let wanted = s3_actions(operation, input);
        if wanted.is_empty() {
            return vec![format!("s3:{operation}")];
        }
        wanted
            .into_iter()
            .filter(|(action, bucket, key)| match self.bucket(bucket.as_deref()) {
                Some(b) => !access.allows_s3(b, *action, key),
                None => true,
            })
            .map(|(action, bucket, key)| {
                format!("{} on {}/{key}", action.iam(), bucket.as_deref().unwrap_or("an unknown bucket"))
            })
            .collect()
    }
}

type Input = aws_smithy_runtime_api::client::interceptors::context::Input;

/// The object actions an S3 call needs, each with its bucket and key (none for a call no
/// function may make).
fn s3_actions(operation: &str, input: &Input) -> Vec<(ObjectAction, Option<String>, String)> {
    use aws_sdk_s3::operation as op;
    macro_rules! on {
        ($ty:ty, $action:expr) => {
            input
                .downcast_ref::<$ty>()
                .map(|i| vec![($action, i.bucket().map(str::to_owned), i.key().unwrap_or_default().to_owned())])
                .unwrap_or_default()
        };
    }
    match operation {
        "GetObject" => on!(op::get_object::GetObjectInput, ObjectAction::Read),
        "HeadObject" => on!(op::head_object::HeadObjectInput, ObjectAction::Read),
        "PutObject" => on!(op::put_object::PutObjectInput, ObjectAction::Write),
        "DeleteObject" => on!(op::delete_object::DeleteObjectInput, ObjectAction::Delete),
        "CreateMultipartUpload" => on!(op::create_multipart_upload::CreateMultipartUploadInput, ObjectAction::Write),
        "UploadPart" => on!(op::upload_part::UploadPartInput, ObjectAction::Write),
        "CompleteMultipartUpload" => {
            on!(op::complete_multipart_upload::CompleteMultipartUploadInput, ObjectAction::Write)
        }
        "AbortMultipartUpload" => on!(op::abort_multipart_upload::AbortMultipartUploadInput, ObjectAction::Abort),
        // The source is read, the target written: `<bucket>/<key>`.
        "CopyObject" => {
            let mut out = on!(op::copy_object::CopyObjectInput, ObjectAction::Write);
            if let Some(source) = input.downcast_ref::<op::copy_object::CopyObjectInput>().and_then(|i| i.copy_source())
            {
                let (bucket, key) = source.trim_start_matches('/').split_once('/').unwrap_or((source, ""));
                out.push((ObjectAction::Read, Some(bucket.to_owned()), key.to_owned()));
            }
            out
        }
        _ => vec![],
    }
}

impl AccessCheck {
    fn check(&self, context: &BeforeSerializationInterceptorContextRef<'_>, cfg: &ConfigBag) -> Result<(), String> {
        let Ok((function, access)) = SERVING.try_with(|s| *s) else {
            return Ok(());
        };
        let Some(meta) = cfg.load::<Metadata>() else {
            return Err(format!("function {function}: an AWS call without operation metadata"));
        };
        let input = context.input();
        let refused: Vec<String> = match meta.service().to_ascii_lowercase().as_str() {
            "dynamodb" => dynamodb_actions(meta.name(), input)
                .into_iter()
                .filter(|(action, index)| !access.allows_dynamodb(action, index.as_deref()))
                .map(|(action, index)| match index {
                    Some(i) => format!("dynamodb:{action} on index {i}"),
                    None => format!("dynamodb:{action}"),
                })
                .collect(),
            "sesv2" | "ses" if !access.mail => vec![format!("ses:{}", meta.name())],
            "s3" => self.s3_refused(&access, meta.name(), input),
            "secrets manager" if !access.allows_secret(meta.name()) => vec![format!("secretsmanager:{}", meta.name())],
            _ => vec![],
        };
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "function {function} called {} without declaring it: add it to its access in the route table \
                 (shared/src/api/mod.rs), then `make template`",
                refused.join(", ")
            ))
        }
    }
}

/// The IAM actions a DynamoDB call needs, with the index a query reads.
fn dynamodb_actions(operation: &str, input: &Input) -> Vec<(String, Option<String>)> {
    match operation {
        "Query" => {
            let index = input.downcast_ref::<QueryInput>().and_then(|q| q.index_name().map(str::to_owned));
            vec![("Query".into(), index)]
        }
        "TransactWriteItems" => {
            let Some(tx) = input.downcast_ref::<TransactWriteItemsInput>() else {
                return vec![("TransactWriteItems".into(), None)];
            };
            let mut out: Vec<(String, Option<String>)> = Vec::new();
            for item in tx.transact_items() {
                let action = if item.put().is_some() {
                    "PutItem"
                } else if item.update().is_some() {
                    "UpdateItem"
                } else if item.delete().is_some() {
                    "DeleteItem"
                } else {
                    "ConditionCheckItem"
                };
                if !out.iter().any(|(a, _)| a == action) {
                    out.push((action.into(), None));
                }
            }
            out
        }
        other => vec![(other.to_string(), None)],
    }
}

impl Intercept for AccessCheck {
    fn name(&self) -> &'static str {
        "kabinet declared-access check"
    }

    // Not `read_before_execution`: for a client's interceptors that runs before the
    // operation's config (and its name) is in the bag.
    fn read_before_serialization(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.check(context, cfg).map_err(|why| {
            tracing::error!(error = %why, "undeclared AWS call");
            why.into()
        })
    }
}

/// Clients for a local context, each checking calls against the function being served.
pub fn checked_ctx(config: kabinet::config::Config, aws: &aws_config::SdkConfig) -> kabinet::Ctx {
    let check = AccessCheck::with_buckets(&config);
    let db = aws_sdk_dynamodb::Client::from_conf(kabinet::aws::dynamodb_config(aws).interceptor(check.clone()).build());
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(aws)
            .force_path_style(config.s3_path_style)
            .interceptor(check.clone())
            .build(),
    );
    let ses =
        aws_sdk_sesv2::Client::from_conf(aws_sdk_sesv2::config::Builder::from(aws).interceptor(check.clone()).build());
    let secrets = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::config::Builder::from(aws).interceptor(check).build(),
    );
    kabinet::Ctx::with_clients(config, aws, db, Some(s3), Some(ses), Some(secrets))
}
