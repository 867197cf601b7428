//! The job queue on real PostgreSQL: enqueue in the tenant's transaction, claim with
//! `for update skip locked`, retry with backoff, dead after five attempts, replay, crash safety,
//! exclusive claims and LISTEN/NOTIFY wake-ups.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use dashboard_shared::{
    Db, TenantId,
    jobs::{self, Job, Outcome, Queue, Registry, Transport, Worker},
    testing,
};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Serialize, Deserialize)]
struct Probe {
    n: u32,
    fail: bool,
    #[serde(default)]
    sleep_ms: u64,
}

impl Job for Probe {
    const KIND: &'static str = "test_probe";
    const QUEUE: Queue = Queue::Link;

    fn dedup_key(&self) -> Option<String> {
        Some(format!("probe-{}", self.n))
    }
}

/// What the handler saw: runs per job number, and whether two ran the same job at once.
#[derive(Clone, Default)]
struct Seen {
    runs: Arc<Mutex<HashMap<u32, u32>>>,
    running: Arc<Mutex<HashSet<u32>>>,
    overlaps: Arc<Mutex<u32>>,
}

async fn probe(seen: Seen, _tenant: TenantId, job: Probe) -> anyhow::Result<()> {
    if !seen.running.lock().unwrap().insert(job.n) {
        *seen.overlaps.lock().unwrap() += 1;
    }
    tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
    seen.running.lock().unwrap().remove(&job.n);
    *seen.runs.lock().unwrap().entry(job.n).or_default() += 1;
    if job.fail {
        anyhow::bail!("probe {} failed on purpose", job.n)
    } else {
        Ok(())
    }
}

fn worker(db: &Db, seen: &Seen) -> Worker<Seen> {
    Worker::new(
        db.clone(),
        Registry::new(Queue::Link).register(probe),
        seen.clone(),
    )
}

async fn enqueue(db: &Db, tenant: TenantId, job: Probe) -> Option<Uuid> {
    let mut tx = db.tenant(tenant).await.unwrap();
    let id = jobs::enqueue(&mut tx, &job).await.unwrap();
    let enqueued = tx.commit().await.unwrap();
    Transport::Postgres(db.clone()).dispatch(&enqueued).await;
    id
}

async fn setup(admin: &PgPool) -> (Db, TenantId) {
    (
        testing::runtime_db(admin),
        testing::create_tenant(admin, "tenant-a").await,
    )
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_job_that_fails_five_times_is_dead_and_can_be_replayed(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let seen = Seen::default();
    let id = enqueue(
        &db,
        tenant,
        Probe {
            n: 1,
            fail: true,
            sleep_ms: 0,
        },
    )
    .await
    .unwrap();
    let worker = worker(&db, &seen);
    let mut waits = Vec::new();
    for attempt in 1..=5 {
        let outcome = worker
            .run_next()
            .await
            .unwrap()
            .expect("the job should be runnable");
        let (status, attempts, wait_s): (String, i32, f64) = sqlx::query_as(
            "select status, attempts, extract(epoch from run_at - now())::float8 from app.jobs where id = $1",
        )
        .bind(id)
        .fetch_one(&admin)
        .await
        .unwrap();
        assert_eq!(attempts, attempt);
        if attempt < 5 {
            assert!(
                matches!(outcome, Outcome::Retry(ref e) if e.contains("failed on purpose")),
                "{outcome:?}"
            );
            assert_eq!(status, "queued");
            assert!(
                worker.run_next().await.unwrap().is_none(),
                "a retry waits for its backoff"
            );
            waits.push(wait_s);
            sqlx::query("update app.jobs set run_at = now() where id = $1")
                .bind(id)
                .execute(&admin)
                .await
                .unwrap();
        } else {
            assert!(matches!(outcome, Outcome::Dead(_)), "{outcome:?}");
            assert_eq!(status, "dead");
        }
    }
    // 5 s, 10 s, 20 s, 40 s, each with up to 20% jitter.
    for (i, wait) in waits.iter().enumerate() {
        let base = 5.0 * 2_f64.powi(i as i32);
        assert!(
            *wait > base - 1.0 && *wait < base * 1.2 + 1.0,
            "retry {i} waits {wait} s, expected about {base} s"
        );
    }
    assert!(
        worker.run_next().await.unwrap().is_none(),
        "a dead job does not run"
    );

    let mut tx = db.tenant(tenant).await.unwrap();
    let dead = jobs::list_dead_jobs(&mut tx, None, 50).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].id, dead[0].attempts), (id, 5));
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("failed on purpose")
    );
    assert_eq!(
        jobs::replay_dead_job(&mut tx, id).await.unwrap(),
        jobs::Replayed::Queued
    );
    assert_eq!(
        jobs::replay_dead_job(&mut tx, id).await.unwrap(),
        jobs::Replayed::NotFound,
        "only dead jobs are replayed"
    );
    tx.commit().await.unwrap();
    assert!(
        worker.run_next().await.unwrap().is_some(),
        "the replayed job runs again"
    );
    assert_eq!(seen.runs.lock().unwrap()[&1], 6);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_worker_cut_off_mid_job_leaves_the_job_to_be_retried(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let seen = Seen::default();
    let id = enqueue(
        &db,
        tenant,
        Probe {
            n: 7,
            fail: false,
            sleep_ms: 60_000,
        },
    )
    .await
    .unwrap();
    let doomed = worker(&db, &seen);
    let running = tokio::spawn(async move { doomed.run_next().await });
    // Wait until the job is really running, then kill the worker (drop its future).
    while seen.running.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.abort();
    let _ = running.await;

    let (status, attempts): (String, i32) =
        sqlx::query_as("select status, attempts from app.jobs where id = $1")
            .bind(id)
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), attempts),
        ("queued", 0),
        "the job must survive its worker"
    );
    sqlx::query(
        "update app.jobs set payload = jsonb_set(payload, '{sleep_ms}', '0') where id = $1",
    )
    .bind(id)
    .execute(&admin)
    .await
    .unwrap();
    let outcome = worker(&db, &seen).run_next().await.unwrap();
    assert_eq!(outcome, Some(Outcome::Done));
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn concurrent_workers_never_run_the_same_job_twice(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let other = testing::create_tenant(&admin, "tenant-b").await;
    let seen = Seen::default();
    for n in 0..24 {
        let owner = if n % 2 == 0 { tenant } else { other };
        enqueue(
            &db,
            owner,
            Probe {
                n,
                fail: false,
                sleep_ms: 20,
            },
        )
        .await
        .unwrap();
    }
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let worker = worker(&db, &seen);
            tokio::spawn(async move { worker.drain().await.unwrap() })
        })
        .collect();
    let mut ran = 0;
    for worker in workers {
        ran += worker.await.unwrap();
    }
    assert_eq!(ran, 24);
    let runs = seen.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 24);
    assert!(runs.values().all(|&count| count == 1), "{runs:?}");
    assert_eq!(*seen.overlaps.lock().unwrap(), 0);
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn enqueueing_pending_work_twice_is_a_no_op(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let seen = Seen::default();
    assert!(
        enqueue(
            &db,
            tenant,
            Probe {
                n: 3,
                fail: false,
                sleep_ms: 0
            }
        )
        .await
        .is_some()
    );
    assert!(
        enqueue(
            &db,
            tenant,
            Probe {
                n: 3,
                fail: false,
                sleep_ms: 0
            }
        )
        .await
        .is_none()
    );
    worker(&db, &seen).drain().await.unwrap();
    assert!(
        enqueue(
            &db,
            tenant,
            Probe {
                n: 3,
                fail: false,
                sleep_ms: 0
            }
        )
        .await
        .is_some(),
        "done work can be queued again"
    );
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn an_idle_worker_wakes_on_notify(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let seen = Seen::default();
    let mut idle = worker(&db, &seen);
    idle.poll_interval = Duration::from_secs(3600); // only a notification can wake it
    let running = tokio::spawn(idle.run());
    tokio::time::sleep(Duration::from_millis(200)).await;
    enqueue(
        &db,
        tenant,
        Probe {
            n: 9,
            fail: false,
            sleep_ms: 0,
        },
    )
    .await
    .unwrap();
    let woke = tokio::time::timeout(Duration::from_secs(30), async {
        while !seen.runs.lock().unwrap().contains_key(&9) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    running.abort();
    assert!(
        woke.is_ok(),
        "the worker never ran the job it was notified of"
    );
}

/// A job whose handler panics, as a bug meeting hostile input would.
#[derive(Debug, Serialize, Deserialize)]
struct Poison {
    n: u32,
}

impl Job for Poison {
    const KIND: &'static str = "test_poison";
    const QUEUE: Queue = Queue::Link;
}

async fn poison(_seen: Seen, _tenant: TenantId, job: Poison) -> anyhow::Result<()> {
    panic!("poison payload {}", job.n)
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_job_that_panics_counts_its_attempts_and_ends_dead(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let seen = Seen::default();
    let worker = Worker::new(
        db.clone(),
        Registry::new(Queue::Link).register(poison).register(probe),
        seen.clone(),
    );
    let mut tx = db.tenant(tenant).await.unwrap();
    let id = jobs::enqueue(&mut tx, &Poison { n: 3 })
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
    for attempt in 1..=5 {
        let outcome = worker.run_next().await.unwrap().expect("runnable");
        let (status, attempts): (String, i32) =
            sqlx::query_as("select status, attempts from app.jobs where id = $1")
                .bind(id)
                .fetch_one(&admin)
                .await
                .unwrap();
        assert_eq!(attempts, attempt, "every panic counts as an attempt");
        match outcome {
            Outcome::Retry(error) if attempt < 5 => {
                assert_eq!(error, "the job panicked: poison payload 3");
                assert_eq!(status, "queued");
            }
            Outcome::Dead(error) if attempt == 5 => {
                assert_eq!(error, "the job panicked: poison payload 3");
                assert_eq!(status, "dead");
            }
            other => panic!("attempt {attempt}: {other:?}"),
        }
        sqlx::query("update app.jobs set run_at = now() where id = $1")
            .bind(id)
            .execute(&admin)
            .await
            .unwrap();
    }
    assert!(
        worker.run_next().await.unwrap().is_none(),
        "a dead job does not run"
    );
    // The same worker goes on with the next job.
    enqueue(
        &db,
        tenant,
        Probe {
            n: 4,
            fail: false,
            sleep_ms: 0,
        },
    )
    .await
    .unwrap();
    assert_eq!(worker.run_next().await.unwrap(), Some(Outcome::Done));
}

/// Sets its flag when dropped: the handler's work was cancelled.
struct Cancelled(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Cancelled {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[derive(Clone, Default)]
struct Stopped(Arc<std::sync::atomic::AtomicBool>);

#[derive(Debug, Serialize, Deserialize)]
struct Endless {
    n: u32,
}

impl Job for Endless {
    const KIND: &'static str = "test_endless";
    const QUEUE: Queue = Queue::Link;
}

async fn endless(stopped: Stopped, _tenant: TenantId, _job: Endless) -> anyhow::Result<()> {
    let _guard = Cancelled(stopped.0);
    std::future::pending().await
}

#[sqlx::test(migrator = "dashboard_shared::db::MIGRATOR")]
async fn a_job_that_times_out_is_cancelled_and_retried(admin: PgPool) {
    let (db, tenant) = setup(&admin).await;
    let stopped = Stopped::default();
    let mut worker = Worker::new(
        db.clone(),
        Registry::new(Queue::Link).register(endless),
        stopped.clone(),
    );
    worker.job_timeout = Duration::from_millis(200);
    let mut tx = db.tenant(tenant).await.unwrap();
    jobs::enqueue(&mut tx, &Endless { n: 1 }).await.unwrap();
    tx.commit().await.unwrap();
    let outcome = worker.run_next().await.unwrap();
    assert!(
        matches!(&outcome, Some(Outcome::Retry(e)) if e.starts_with("timed out")),
        "{outcome:?}"
    );
    // The abort lands when the runtime next polls the task.
    for _ in 0..500 {
        if stopped.0.load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        stopped.0.load(std::sync::atomic::Ordering::SeqCst),
        "the timed-out job's work was not cancelled"
    );
}

#[tokio::test]
async fn a_background_task_that_stops_is_started_again() {
    let starts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (up, mut running) = tokio::sync::mpsc::unbounded_channel();
    let supervised = {
        let starts = starts.clone();
        tokio::spawn(jobs::keep_running(
            "the test worker",
            Duration::from_millis(1),
            move || {
                let (starts, up) = (starts.clone(), up.clone());
                async move {
                    let start = starts.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    if start < 3 {
                        panic!("worker start {start} fails");
                    }
                    up.send(start).unwrap();
                    std::future::pending::<()>().await
                }
            },
        ))
    };
    assert_eq!(
        running.recv().await,
        Some(3),
        "two panics, then a third start"
    );
    supervised.abort();
    assert!(supervised.await.unwrap_err().is_cancelled());
    assert_eq!(starts.load(std::sync::atomic::Ordering::SeqCst), 3);
}
