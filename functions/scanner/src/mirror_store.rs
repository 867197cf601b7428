//! Where mirrors live between scans. Locally (the default, and `dashboard up`) the mirror directory
//! is enough. A Cloud Run instance keeps nothing, so with `SCANNER_MIRROR_BUCKET` set each mirror is
//! also kept in Cloud Storage as one tar object, `mirrors/<tenant>/<repository>.tar`: restored before
//! a scan when the instance does not have it (then fetched, not cloned), saved after a scan that
//! fetched something new. The tar is streamed both ways (never held whole in memory: on Cloud Run
//! memory is the instance's disk too). `STORAGE_EMULATOR_HOST` points the client at an emulator
//! (tests).

use std::{io::Write as _, path::Path};

use anyhow::Context as _;
use bytes::{Bytes, BytesMut};
use google_cloud_storage::{client::Storage, streaming_source::StreamingSource};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream},
    task::JoinHandle,
};
use tokio_util::io::SyncIoBridge;
use uuid::Uuid;

/// The in-memory pipe between the tar builder or unpacker and the transfer.
const PIPE_BYTES: usize = 1 << 20;
/// The largest piece handed to an upload at once.
const CHUNK_BYTES: usize = 256 << 10;

/// The mirrors' blob store.
#[derive(Clone, Debug, Default)]
pub enum MirrorStore {
    /// The local directory only.
    #[default]
    Local,
    /// Cloud Storage too.
    Gcs {
        /// The client (boxed: it is large).
        client: Box<Storage>,
        /// `projects/_/buckets/<name>`.
        bucket: String,
    },
}

impl MirrorStore {
    /// Cloud Storage bucket `bucket`; with `emulator` (an `http://host:port`), anonymous requests to it.
    pub async fn gcs(bucket: &str, emulator: Option<&str>) -> anyhow::Result<Self> {
        let mut builder = Storage::builder();
        if let Some(endpoint) = emulator {
            builder = builder.with_endpoint(endpoint).with_credentials(
                google_cloud_auth::credentials::anonymous::Builder::new().build(),
            );
        }
        let client = builder
            .build()
            .await
            .context("cannot create the Cloud Storage client")?;
        Ok(Self::Gcs {
            client: Box::new(client),
            bucket: format!("projects/_/buckets/{bucket}"),
        })
    }

    fn object(tenant: Uuid, repository: Uuid) -> String {
        format!("mirrors/{tenant}/{repository}.tar")
    }

    /// Brings the stored mirror of `repository` to `mirror` when this instance has none; returns
    /// whether it did. The object is unpacked as it downloads, into a directory beside `mirror` that
    /// is renamed into place only once the download and the archive both ended well.
    pub async fn restore(
        &self,
        mirror: &Path,
        tenant: Uuid,
        repository: Uuid,
    ) -> anyhow::Result<bool> {
        let Self::Gcs { client, bucket } = self else {
            return Ok(false);
        };
        if mirror.join("HEAD").exists() {
            return Ok(false);
        }
        let object = Self::object(tenant, repository);
        let mut response = match client
            .read_object(bucket.as_str(), object.as_str())
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) if error.http_status_code() == Some(404) => return Ok(false),
            Err(error) => {
                return Err(anyhow::Error::new(error).context("cannot read the stored mirror"));
            }
        };
        let (reader, mut writer) = tokio::io::duplex(PIPE_BYTES);
        let partial = mirror.with_extension("restoring");
        let unpack = {
            let (reader, partial) = (SyncIoBridge::new(reader), partial.clone());
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let _ = std::fs::remove_dir_all(&partial);
                std::fs::create_dir_all(&partial)?;
                tar::Archive::new(reader)
                    .unpack(&partial)
                    .context("the stored mirror is not a valid archive")
            })
        };
        let downloaded = async {
            while let Some(chunk) = response.next().await.transpose()? {
                if writer.write_all(&chunk).await.is_err() {
                    // The unpacking stopped; its own result says why.
                    break;
                }
            }
            anyhow::Ok(())
        }
        .await;
        drop(writer);
        let unpacked = unpack.await?;
        downloaded.context("cannot read the stored mirror")?;
        unpacked?;
        tokio::fs::rename(&partial, mirror).await?;
        Ok(true)
    }

    /// Stores the mirror of `repository`: a tar written by a blocking builder is uploaded as it is
    /// produced, a few megabytes in memory at a time whatever the mirror's size; a builder that
    /// fails fails the upload, so a partial archive never replaces the stored one.
    pub async fn save(&self, mirror: &Path, tenant: Uuid, repository: Uuid) -> anyhow::Result<()> {
        let Self::Gcs { client, bucket } = self else {
            return Ok(());
        };
        let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
        let (writer, source) = (SyncIoBridge::new(writer), mirror.to_owned());
        let builder = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut archive = tar::Builder::new(writer);
            archive.append_dir_all(".", &source)?;
            let mut writer = archive.into_inner()?;
            writer.flush()?;
            writer.shutdown()
        });
        let stream = TarStream {
            reader,
            builder: Some(builder),
        };
        client
            .write_object(bucket.as_str(), Self::object(tenant, repository), stream)
            .send_buffered()
            .await
            .context("cannot store the mirror")?;
        Ok(())
    }
}

/// The tar of a mirror as its builder writes it: the upload's source. It ends with the builder's
/// error, if any, rather than with a truncated archive.
struct TarStream {
    reader: DuplexStream,
    builder: Option<JoinHandle<std::io::Result<()>>>,
}

impl StreamingSource for TarStream {
    type Error = std::io::Error;

    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        let mut chunk = BytesMut::with_capacity(CHUNK_BYTES);
        match self.reader.read_buf(&mut chunk).await {
            Ok(0) => match self.builder.take()?.await {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(Err(error)),
                Err(panicked) => Some(Err(std::io::Error::other(panicked))),
            },
            Ok(_) => Some(Ok(chunk.freeze())),
            Err(error) => Some(Err(error)),
        }
    }
}
