//! Writing an export to the bucket as it is made. The writer (CSV, XLSX) writes to a
//! temporary file; each time the file has grown by [`PART_SIZE`] (S3's minimum but for the
//! last part) that part is sent as a multipart-upload part streamed from the file, so
//! memory holds no part at all, however large the file. A file smaller than one part is
//! one PUT. A failed upload is aborted (the bucket's lifecycle also removes what an abort
//! misses).

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;

/// The size of every part but the last: 5 MiB, S3's minimum.
pub const PART_SIZE: u64 = 5 * 1024 * 1024;

fn s3_error<E: std::error::Error + 'static, R: std::fmt::Debug>(e: aws_sdk_s3::error::SdkError<E, R>) -> String {
    aws_sdk_s3::error::DisplayErrorContext(e).to_string()
}

/// One object being written from a growing file.
pub struct ObjectWriter<'a> {
    s3: &'a Client,
    bucket: &'a str,
    key: &'a str,
    content_type: &'a str,
    file: &'a Path,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    /// Bytes of the file sent so far.
    sent: u64,
    /// Time spent waiting on S3.
    waited: Duration,
}

impl<'a> ObjectWriter<'a> {
    /// Sends `file` (being written) to `key`.
    pub fn new(s3: &'a Client, bucket: &'a str, key: &'a str, content_type: &'a str, file: &'a Path) -> Self {
        ObjectWriter {
            s3,
            bucket,
            key,
            content_type,
            file,
            upload_id: None,
            parts: Vec::new(),
            sent: 0,
            waited: Duration::ZERO,
        }
    }

    /// The file it sends.
    pub fn path(&self) -> &'a Path {
        self.file
    }

    /// Sends the full parts of the file written so far (`written` bytes, flushed).
    pub async fn sync(&mut self, written: u64) -> Result<(), String> {
        while written - self.sent >= PART_SIZE {
            self.send_part(PART_SIZE).await?;
        }
        Ok(())
    }

    async fn body(&self, length: u64) -> Result<ByteStream, String> {
        ByteStream::read_from()
            .path(self.file)
            .offset(self.sent)
            .length(Length::Exact(length))
            .build()
            .await
            .map_err(|e| format!("reading the export's file: {e}"))
    }

    async fn send_part(&mut self, length: u64) -> Result<(), String> {
        let started = Instant::now();
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let out = self
                    .s3
                    .create_multipart_upload()
                    .bucket(self.bucket)
                    .key(self.key)
                    .content_type(self.content_type)
                    .send()
                    .await
                    .map_err(s3_error)?;
                let id = out.upload_id().ok_or("S3 gave no upload ID")?.to_string();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let number = self.parts.len() as i32 + 1;
        let body = self.body(length).await?;
        let out = self
            .s3
            .upload_part()
            .bucket(self.bucket)
            .key(self.key)
            .upload_id(&upload_id)
            .part_number(number)
            .content_length(length as i64)
            .body(body)
            .send()
            .await
            .map_err(s3_error)?;
        self.parts.push(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag().map(str::to_owned)).build());
        self.sent += length;
        self.waited += started.elapsed();
        Ok(())
    }

    /// Sends the rest of the file (`written` bytes in all) and completes the object:
    /// answers the parts sent (0 for one PUT) and the time spent waiting on S3.
    pub async fn finish(mut self, written: u64) -> Result<(usize, Duration), String> {
        let result = self.complete(written).await;
        if result.is_err() {
            self.abort().await;
        }
        result.map(|()| (self.parts.len(), self.waited))
    }

    async fn complete(&mut self, written: u64) -> Result<(), String> {
        self.sync(written).await?;
        let rest = written - self.sent;
        if self.upload_id.is_none() {
            let started = Instant::now();
            let body = self.body(rest).await?;
            self.s3
                .put_object()
                .bucket(self.bucket)
                .key(self.key)
                .content_type(self.content_type)
                .content_length(rest as i64)
                .body(body)
                .send()
                .await
                .map_err(s3_error)?;
            self.sent += rest;
            self.waited += started.elapsed();
            return Ok(());
        }
        if rest > 0 {
            self.send_part(rest).await?;
        }
        let started = Instant::now();
        let upload = CompletedMultipartUpload::builder().set_parts(Some(self.parts.clone())).build();
        self.s3
            .complete_multipart_upload()
            .bucket(self.bucket)
            .key(self.key)
            .upload_id(self.upload_id.clone().unwrap_or_default())
            .multipart_upload(upload)
            .send()
            .await
            .map_err(s3_error)?;
        self.waited += started.elapsed();
        Ok(())
    }

    /// Drops a multipart upload that will not complete.
    pub async fn abort(&mut self) {
        if let Some(id) = self.upload_id.take() {
            let aborted = self.s3.abort_multipart_upload().bucket(self.bucket).key(self.key).upload_id(id).send().await;
            if let Err(e) = aborted {
                tracing::warn!(key = %self.key, error = %s3_error(e), "a multipart upload could not be aborted");
            }
        }
    }
}
