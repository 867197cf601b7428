//! Where mirrors live between scans. Locally (the default, and `dashboard up`) the mirror directory
//! is enough. A Cloud Run instance keeps nothing, so with `SCANNER_MIRROR_BUCKET` set each mirror is
//! also kept in Cloud Storage as one tar object, `mirrors/<tenant>/<repository>.tar`: restored before
//! a scan when the instance does not have it (then fetched, not cloned), saved after a scan that
//! fetched something new. `STORAGE_EMULATOR_HOST` points the client at an emulator (tests).

use std::path::Path;

use anyhow::Context as _;
use google_cloud_storage::client::Storage;
use uuid::Uuid;

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
    /// whether it did.
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
        let mut archive = Vec::new();
        while let Some(chunk) = response.next().await.transpose()? {
            archive.extend_from_slice(&chunk);
        }
        let mirror = mirror.to_owned();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let partial = mirror.with_extension("restoring");
            let _ = std::fs::remove_dir_all(&partial);
            std::fs::create_dir_all(&partial)?;
            tar::Archive::new(archive.as_slice())
                .unpack(&partial)
                .context("the stored mirror is not a valid archive")?;
            std::fs::rename(&partial, &mirror)?;
            Ok(())
        })
        .await??;
        Ok(true)
    }

    /// Stores the mirror of `repository`.
    pub async fn save(&self, mirror: &Path, tenant: Uuid, repository: Uuid) -> anyhow::Result<()> {
        let Self::Gcs { client, bucket } = self else {
            return Ok(());
        };
        let source = mirror.to_owned();
        let archive = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
            let mut builder = tar::Builder::new(Vec::new());
            builder.append_dir_all(".", &source)?;
            Ok(builder.into_inner()?)
        })
        .await??;
        client
            .write_object(
                bucket.as_str(),
                Self::object(tenant, repository),
                bytes::Bytes::from(archive),
            )
            .send_buffered()
            .await
            .context("cannot store the mirror")?;
        Ok(())
    }
}
