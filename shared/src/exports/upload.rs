//! Writing an export to the bucket as it is made: bytes gather in a buffer and leave in
//! multipart-upload parts of [`PART_SIZE`] (S3's minimum but for the last part), so memory
//! holds one part at most, however large the file. A file smaller than one part is one
//! PUT. A failed upload is aborted (the bucket's lifecycle also removes what an abort
//! misses).

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;

/// The size of every part but the last: 5 MiB, S3's minimum.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

fn s3_error<E: std::error::Error + 'static, R: std::fmt::Debug>(e: aws_sdk_s3::error::SdkError<E, R>) -> String {
    aws_sdk_s3::error::DisplayErrorContext(e).to_string()
}

/// A buffer that a synchronous writer (the CSV writer) fills and the uploader drains.
#[derive(Clone, Default)]
pub struct Spool(Arc<Mutex<Vec<u8>>>);

impl Spool {
    /// How many bytes wait.
    pub fn len(&self) -> usize {
        self.0.lock().map(|b| b.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes what waits.
    pub fn take(&self) -> Vec<u8> {
        self.0.lock().map(|mut b| std::mem::take(&mut *b)).unwrap_or_default()
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("spool poisoned"))?.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One object being written.
pub struct ObjectWriter<'a> {
    s3: &'a Client,
    bucket: &'a str,
    key: &'a str,
    content_type: &'a str,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    buf: Vec<u8>,
    size: u64,
    /// Time spent waiting on S3.
    pub waited: Duration,
}

impl<'a> ObjectWriter<'a> {
    pub fn new(s3: &'a Client, bucket: &'a str, key: &'a str, content_type: &'a str) -> Self {
        ObjectWriter {
            s3,
            bucket,
            key,
            content_type,
            upload_id: None,
            parts: Vec::new(),
            buf: Vec::new(),
            size: 0,
            waited: Duration::ZERO,
        }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Parts sent so far.
    pub fn parts(&self) -> usize {
        self.parts.len()
    }

    /// Takes `bytes`; every full part leaves at once.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.size += bytes.len() as u64;
        self.buf.extend_from_slice(bytes);
        while self.buf.len() >= PART_SIZE {
            let rest = self.buf.split_off(PART_SIZE);
            let part = std::mem::replace(&mut self.buf, rest);
            self.send_part(part).await?;
        }
        Ok(())
    }

    async fn send_part(&mut self, part: Vec<u8>) -> Result<(), String> {
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
        let out = self
            .s3
            .upload_part()
            .bucket(self.bucket)
            .key(self.key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(s3_error)?;
        self.parts.push(CompletedPart::builder().part_number(number).set_e_tag(out.e_tag().map(str::to_owned)).build());
        self.waited += started.elapsed();
        Ok(())
    }

    /// Sends what remains and completes the object; its size.
    pub async fn finish(mut self) -> Result<(u64, Duration), String> {
        let result = self.complete().await;
        if result.is_err() {
            self.abort().await;
        }
        result.map(|()| (self.size, self.waited))
    }

    async fn complete(&mut self) -> Result<(), String> {
        let rest = std::mem::take(&mut self.buf);
        if self.upload_id.is_none() {
            let started = Instant::now();
            self.s3
                .put_object()
                .bucket(self.bucket)
                .key(self.key)
                .content_type(self.content_type)
                .body(ByteStream::from(rest))
                .send()
                .await
                .map_err(s3_error)?;
            self.waited += started.elapsed();
            return Ok(());
        }
        if !rest.is_empty() {
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
