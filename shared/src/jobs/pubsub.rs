//! The Pub/Sub publisher of the `pubsub` transport (`google-cloud-pubsub`), and the configuration
//! that chooses a transport: `QUEUE_TRANSPORT=postgres|pubsub`, with `PUBSUB_TOPIC_SCAN` and
//! `PUBSUB_TOPIC_LINK` (full names, `projects/<project>/topics/<topic>`) for `pubsub`.

use std::{future::Future, pin::Pin, sync::Arc};

use google_cloud_pubsub::{client::Publisher as TopicPublisher, model::Message};

use super::{JobMessage, Publisher, Queue, Transport};
use crate::{
    Db,
    config::{ConfigError, Env},
};

/// One Pub/Sub publisher per queue topic.
#[derive(Debug)]
pub struct PubSubPublisher {
    scan: TopicPublisher,
    link: TopicPublisher,
}

impl Publisher for PubSubPublisher {
    fn publish(
        &self,
        queue: Queue,
        message: JobMessage,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + '_>> {
        let topic = match queue {
            Queue::Scan => &self.scan,
            Queue::Link => &self.link,
        };
        let sent = topic.publish(
            Message::new()
                .set_data(message.data)
                .set_attributes(message.attributes),
        );
        Box::pin(async move {
            sent.await
                .map_err(|e| anyhow::anyhow!("publish to Pub/Sub failed: {e}"))?;
            Ok(())
        })
    }
}

/// The transport `QUEUE_TRANSPORT` names (default `postgres`).
pub async fn transport_from_lookup(env: &Env, db: &Db) -> anyhow::Result<Transport> {
    match env.get("QUEUE_TRANSPORT").as_deref() {
        None | Some("postgres") => Ok(Transport::Postgres(db.clone())),
        Some("pubsub") => {
            let scan = topic(env, "PUBSUB_TOPIC_SCAN")?;
            let link = topic(env, "PUBSUB_TOPIC_LINK")?;
            let build = |topic: String| async move {
                // Publish each message at once: the caller is waiting to answer its request.
                TopicPublisher::builder(topic)
                    .set_message_count_threshold(1)
                    .build()
                    .await
            };
            let publisher = PubSubPublisher {
                scan: build(scan).await?,
                link: build(link).await?,
            };
            Ok(Transport::PubSub(Arc::new(publisher)))
        }
        Some(other) => Err(ConfigError::Invalid {
            name: "QUEUE_TRANSPORT",
            reason: format!("expected `postgres` or `pubsub`, got `{other}`"),
        }
        .into()),
    }
}

fn topic(env: &Env, name: &'static str) -> Result<String, ConfigError> {
    let value = env.get(name).ok_or(ConfigError::Missing { name })?;
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        ["projects", project, "topics", topic] if !project.is_empty() && !topic.is_empty() => {
            Ok(value)
        }
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!("`{value}` is not projects/<project>/topics/<topic>"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_transport_is_postgres_unless_pubsub_is_asked_for() {
        let db = Db::connect_lazy_with(sqlx::postgres::PgConnectOptions::new(), 1);
        let transport_from_lookup = |env: Env| {
            let db = db.clone();
            async move { super::transport_from_lookup(&env, &db).await }
        };
        assert!(matches!(
            transport_from_lookup(Env::from_pairs(&[])).await.unwrap(),
            Transport::Postgres(_)
        ));
        let wrong = transport_from_lookup(Env::from_pairs(&[("QUEUE_TRANSPORT", "kafka")]))
            .await
            .unwrap_err();
        assert!(wrong.to_string().contains("QUEUE_TRANSPORT"), "{wrong}");
        let missing = transport_from_lookup(Env::from_pairs(&[("QUEUE_TRANSPORT", "pubsub")]))
            .await
            .unwrap_err();
        assert!(
            missing.to_string().contains("PUBSUB_TOPIC_SCAN"),
            "{missing}"
        );
        let env = Env::from_pairs(&[
            ("QUEUE_TRANSPORT", "pubsub"),
            ("PUBSUB_TOPIC_SCAN", "scan-jobs"),
            ("PUBSUB_TOPIC_LINK", "projects/p/topics/link-jobs"),
        ]);
        let malformed = transport_from_lookup(env).await.unwrap_err().to_string();
        assert!(
            malformed.contains("PUBSUB_TOPIC_SCAN") && malformed.contains("projects/"),
            "{malformed}"
        );
    }
}
