//! Linking commits to tasks: the `link_commits` job (after a push), `relink_repository` (after a
//! scan changed tasks, or a person asked) and `relink_organization` (a person asked), all through
//! [`link`].
//!
//! Explicit references ([`crate::references`]) in the message, the branch name and, for the commit
//! that merged a pull request, its title and body link with confidence 1.0; a closing link whose
//! commit is on the default branch marks its task done, once (a reopened task is not closed again).
//! Commits without an
//! explicit link get at most one similarity link ([`crate::similarity`]) among the tasks alive at
//! their time, and suggestions below the threshold. With a model ([`crate::semantic`]), a commit the
//! shared words leave unlinked is linked to the task closest in meaning when they are close enough,
//! and the closest are suggested; each text is embedded once, here, and stored. A similarity link
//! never replaces an explicit or manual one, and a link a person removed (`rejected`) is never
//! brought back. Running it again with nothing new changes no row.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use chrono::{DateTime, Duration, Utc};
use dashboard_shared::{
    TenantId, TenantTx,
    jobs::kinds::{LinkCommits, RelinkOrganization, RelinkRepository},
    links,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    LinkerContext, embed,
    references::{self, Reference, Relation, Target},
    semantic::{self, Model},
    similarity::{
        Corpus, Decision, Index, Settings, Vector, commit_terms, confidence, decide, task_terms,
    },
};

/// How long before a task's creation a commit may still belong to it (GitHub tasks).
const BEFORE_CREATION: Duration = Duration::days(1);
/// How long after a task closed a commit may still belong to it.
const AFTER_CLOSING: Duration = Duration::days(7);

/// What a linking pass wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Linked {
    /// Explicit links (new or changed).
    pub explicit: usize,
    /// Similarity links (new or changed).
    pub similarity: usize,
    /// Suggestions (new or changed).
    pub suggested: usize,
    /// Similarity links and suggestions that no longer hold, deleted.
    pub withdrawn: usize,
    /// Tasks marked done by a closing reference on the default branch.
    pub closed: usize,
}

/// Runs a [`LinkCommits`] job for `tenant`.
pub async fn link_commits(
    ctx: LinkerContext,
    tenant: TenantId,
    job: LinkCommits,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let linked = link(
        &mut tx,
        job.repository,
        Some(&job.commits),
        job.branch.as_deref(),
        &Settings::default(),
        ctx.semantic.as_ref(),
    )
    .await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(repository.id = %job.repository, commits = job.commits.len(), ?linked, "commits linked");
    Ok(())
}

/// Runs a [`RelinkRepository`] job for `tenant`: every commit of the repository again.
pub async fn relink_repository(
    ctx: LinkerContext,
    tenant: TenantId,
    job: RelinkRepository,
) -> anyhow::Result<()> {
    relink(&ctx, tenant, job.repository).await
}

/// Runs a [`RelinkOrganization`] job for `tenant`: every repository in turn, each in a transaction
/// of its own (a retry after a failure relinks the finished ones again, changing nothing).
pub async fn relink_organization(
    ctx: LinkerContext,
    tenant: TenantId,
    _job: RelinkOrganization,
) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let repositories =
        sqlx::query_scalar!("select id from repositories where not archived order by full_name")
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    for repository in repositories {
        relink(&ctx, tenant, repository).await?;
    }
    Ok(())
}

/// Links every commit of `repository` again, in a transaction of its own.
async fn relink(ctx: &LinkerContext, tenant: TenantId, repository: Uuid) -> anyhow::Result<()> {
    let mut tx = ctx.db.tenant(tenant).await?;
    let linked = link(
        &mut tx,
        repository,
        None,
        None,
        &Settings::default(),
        ctx.semantic.as_ref(),
    )
    .await?;
    let enqueued = tx.commit().await?;
    ctx.transport.dispatch(&enqueued).await;
    tracing::info!(repository.id = %repository, ?linked, "repository relinked");
    Ok(())
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: Uuid,
    source: String,
    external_key: String,
    title: String,
    body: Option<String>,
    labels: Vec<String>,
    created_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    merge_commit_sha: Option<String>,
    base_branch: Option<String>,
    embedding: Option<Vec<u8>>,
}

#[derive(sqlx::FromRow)]
struct CommitRow {
    id: Uuid,
    sha: String,
    message: String,
    changed_paths: Vec<String>,
    at: DateTime<Utc>,
    embedding: Option<Vec<u8>>,
}

/// One link to write.
struct Row {
    commit: Uuid,
    task: Uuid,
    method: &'static str,
    relation: Relation,
    confidence: f32,
    state: &'static str,
    evidence: Value,
}

/// Links `commits` of `repository` (all of them with `None`), pushed to `branch`; by meaning too
/// with a `model`.
pub async fn link(
    tx: &mut TenantTx,
    repository: Uuid,
    commits: Option<&[Uuid]>,
    branch: Option<&str>,
    settings: &Settings,
    model: Option<&Arc<Model>>,
) -> anyhow::Result<Linked> {
    let scope = commits;
    if let Some(model) = model
        && embed::missing(tx, model, repository, scope).await?
    {
        // More than one pass embeds: `embed_texts` jobs embed the rest, then relink.
        embed::continue_later(tx, repository).await?;
    }
    let commits: Vec<CommitRow> = sqlx::query_as(
        "select id, sha, message, changed_paths, coalesce(committed_at, authored_at, created_at) as at,
                case when $3 then embedding end as embedding
         from commits where repository_id = $1 and ($2::uuid[] is null or id = any($2))",
    )
    .bind(repository)
    .bind(scope)
    .bind(model.is_some())
    .fetch_all(&mut **tx)
    .await?;
    if commits.is_empty() {
        return Ok(Linked::default());
    }
    let mut tasks: Vec<TaskRow> = sqlx::query_as(
        "select id, source, external_key, title, body, labels, created_at, closed_at, merge_commit_sha, base_branch,
                case when $2 then embedding end as embedding
         from tasks where repository_id = $1 and removed_at is null",
    )
    .bind(repository)
    .bind(model.is_some())
    .fetch_all(&mut **tx)
    .await?;
    let (full_name, main_branch): (String, String) =
        sqlx::query_as("select full_name, default_branch from repositories where id = $1")
            .bind(repository)
            .fetch_one(&mut **tx)
            .await?;

    // Explicit references, resolved to tasks.
    let branch_reference = branch.and_then(references::parse_branch);
    let merged_pull_requests: HashMap<&str, &TaskRow> = tasks
        .iter()
        .filter_map(|t| Some((t.merge_commit_sha.as_deref()?, t)))
        .collect();
    let mut found: Vec<(usize, Reference)> = Vec::new();
    for (i, commit) in commits.iter().enumerate() {
        for reference in references::parse(&commit.message)
            .into_iter()
            .chain(branch_reference.clone())
        {
            found.push((i, reference));
        }
        // The commit that merged a pull request: the pull request itself, and what its title and
        // body reference (closing only when it merged into the default branch, as on GitHub).
        if let Some(pull_request) = merged_pull_requests.get(commit.sha.as_str()) {
            let into_default = pull_request.base_branch.as_deref() == Some(main_branch.as_str());
            let own = Reference {
                target: Target::GitHub {
                    repository: None,
                    number: pull_request.external_key.parse().unwrap_or_default(),
                },
                relation: Relation::Closes,
            };
            let text = format!(
                "{}\n\n{}",
                pull_request.title,
                pull_request.body.as_deref().unwrap_or_default()
            );
            for mut reference in std::iter::once(own).chain(references::parse(&text)) {
                if !into_default {
                    reference.relation = Relation::References;
                }
                found.push((i, reference));
            }
        }
    }
    let resolved = resolve(tx, repository, &full_name, &tasks, &found).await?;
    let mut rows: BTreeMap<(Uuid, Uuid), Row> = BTreeMap::new();
    for ((i, reference), task) in found.iter().zip(resolved) {
        let Some(task) = task else { continue };
        let commit = commits[*i].id;
        let row = rows.entry((commit, task)).or_insert_with(|| Row {
            commit,
            task,
            method: "explicit",
            relation: reference.relation,
            confidence: 1.0,
            state: "active",
            evidence: json!({ "reference": describe(&reference.target) }),
        });
        row.relation = row.relation.min(reference.relation);
    }

    // Similarity, for commits no explicit or manual link claims.
    let scope: Vec<Uuid> = commits.iter().map(|c| c.id).collect();
    let claimed: HashSet<Uuid> = sqlx::query_scalar(
        "select commit_id from commit_task_links
         where commit_id = any($1) and method in ('explicit', 'manual') and state = 'active'",
    )
    .bind(&scope)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .chain(rows.keys().map(|(commit, _)| *commit))
    .collect();
    // Tasks in order of birth, so that a commit's candidates are a prefix of every posting list.
    let now = Utc::now();
    tasks.sort_by_cached_key(|t| lifetime(t, now).0);
    // The documents' terms: tasks on one core, commits on another.
    let (task_terms, commit_terms): (Vec<Vec<String>>, Vec<Vec<String>>) =
        std::thread::scope(|scope| {
            let tasks = scope.spawn(|| {
                tasks
                    .iter()
                    .map(|t| task_terms(&t.title, t.body.as_deref().unwrap_or(""), &t.labels))
                    .collect()
            });
            let commits = commits
                .iter()
                .map(|c| commit_terms(&c.message, &c.changed_paths))
                .collect();
            (tasks.join().expect("term extraction never panics"), commits)
        });
    let corpus = Corpus::new(task_terms.iter().chain(&commit_terms).map(Vec::as_slice));
    let index = Index::new(
        &corpus,
        task_terms.iter().map(|t| corpus.vector(t)).collect(),
    );
    let meaning = model.is_some().then(|| Meaning {
        commits: commits
            .iter()
            .map(|c| c.embedding.as_deref().and_then(semantic::from_bytes))
            .collect(),
        tasks: semantic::Matrix::new(
            tasks
                .iter()
                .map(|t| t.embedding.as_deref().and_then(semantic::from_bytes)),
        ),
    });
    let scoring = Arc::new(Scoring {
        commits,
        commit_terms,
        meaning,
        lifetimes: tasks.iter().map(|t| lifetime(t, now)).collect(),
        tasks,
        claimed,
        corpus,
        index,
        settings: *settings,
    });

    // Scoring is pure computation, in batches on a thread of its own; each batch is written while
    // the next is scored (the writes take longer: one scoring thread keeps ahead of them).
    let (batches, mut scored) = tokio::sync::mpsc::channel(2);
    let scorer = {
        let scoring = scoring.clone();
        std::thread::spawn(move || {
            for first in (0..scoring.commits.len()).step_by(BATCH) {
                let last = (first + BATCH).min(scoring.commits.len());
                if batches.blocking_send(scoring.score(first..last)).is_err() {
                    break;
                }
            }
        })
    };
    let mut written = insert(tx, &rows.into_values().collect::<Vec<_>>()).await?;
    let mut kept: Vec<(Uuid, Uuid)> = Vec::new();
    while let Some(batch) = scored.recv().await {
        let rows: Vec<Row> = batch
            .into_iter()
            .map(|s| {
                let round = |x: f64| (x * 1000.0).round() / 1000.0;
                let mut evidence = json!({ "score": round(s.score), "terms": s.shared });
                if let Some(cosine) = s.semantic {
                    evidence["semantic"] = json!(round(f64::from(cosine)));
                }
                Row {
                    commit: scoring.commits[s.commit].id,
                    task: scoring.tasks[s.task].id,
                    method: "similarity",
                    relation: Relation::References,
                    confidence: confidence(s.score.max(s.semantic.map_or(0.0, f64::from))),
                    state: s.state,
                    evidence,
                }
            })
            .collect();
        kept.extend(rows.iter().map(|r| (r.commit, r.task)));
        written.extend(insert(tx, &rows).await?);
    }
    scorer.join().expect("scoring never panics");
    let (withdrawn, closed) = finish(tx, &scope, &kept).await?;
    let count = |method: &str, state: &str| {
        written
            .iter()
            .filter(|(m, s, _)| m == method && s == state)
            .map(|(_, _, n)| *n as usize)
            .sum()
    };
    Ok(Linked {
        explicit: count("explicit", "active"),
        similarity: count("similarity", "active"),
        suggested: count("similarity", "suggested"),
        withdrawn,
        closed,
    })
}

/// How many commits are scored between two writes.
const BATCH: usize = 1_000;

/// One similarity decision: a link or a suggestion.
struct Scored {
    /// The commit (an index of [`Scoring::commits`]).
    commit: usize,
    /// The task (an index of [`Scoring::tasks`]).
    task: usize,
    /// `active` or `suggested`.
    state: &'static str,
    /// The TF-IDF cosine.
    score: f64,
    /// The cosine of their embeddings, when meaning decided or suggested it.
    semantic: Option<f32>,
    /// The terms they share, the first five.
    shared: Vec<String>,
}

/// The stored embeddings of the commits and tasks being linked (by the same indexes).
struct Meaning {
    commits: Vec<Option<Vec<f32>>>,
    tasks: semantic::Matrix,
}

/// Everything scoring reads, shared with the scoring thread.
struct Scoring {
    commits: Vec<CommitRow>,
    commit_terms: Vec<Vec<String>>,
    /// With a model: the embeddings.
    meaning: Option<Meaning>,
    tasks: Vec<TaskRow>,
    /// Per task, when a commit may have worked on it ([`lifetime`]).
    lifetimes: Vec<(i64, i64)>,
    claimed: HashSet<Uuid>,
    corpus: Corpus,
    index: Index,
    settings: Settings,
}

impl Scoring {
    /// The decisions for `commits[range]`.
    fn score(&self, range: std::ops::Range<usize>) -> Vec<Scored> {
        let mut scorer = self.index.scorer();
        let mut decided = Vec::new();
        let floor = self.settings.suggest.min(self.settings.threshold);
        // First the words; what they leave unlinked waits for meaning.
        let mut unlinked: Vec<Unlinked> = Vec::new();
        for c in range {
            let commit = &self.commits[c];
            if self.claimed.contains(&commit.id) || self.commit_terms[c].is_empty() {
                continue;
            }
            let query = self.corpus.vector(&self.commit_terms[c]);
            let at = commit.at.timestamp();
            // Tasks are in order of birth: those born after the commit are no candidates.
            let born = self.lifetimes.partition_point(|(born, _)| *born <= at);
            let candidates = scorer.scores(&query, born, |i| at <= self.lifetimes[i].1, floor);
            match decide(&candidates, &self.settings) {
                Decision::Link(i, _) => decided.push(self.scored(c, &query, i, "active", None)),
                Decision::Suggest(suggestions) => unlinked.push(Unlinked {
                    commit: c,
                    born,
                    suggestions,
                    query,
                }),
            }
        }
        let mut near = self.nearest(&unlinked);
        let semantic = self.settings.semantic;
        for (commit, near) in unlinked.into_iter().zip(near.drain(..)) {
            let (c, query) = (commit.commit, &commit.query);
            if let Some((i, cosine)) = semantic::closest(near.iter().copied(), semantic.link) {
                decided.push(self.scored(c, query, i, "active", Some(cosine)));
                continue;
            }
            // The words' suggestions and the closest in meaning: the best 3.
            let mut suggested: Vec<(usize, Option<f32>, f64)> = commit
                .suggestions
                .into_iter()
                .map(|(i, score)| (i, None, score))
                .collect();
            for (i, cosine) in near.into_iter().filter(|(_, c)| *c >= semantic.suggest) {
                match suggested.iter_mut().find(|(t, _, _)| *t == i) {
                    Some(s) => (s.1, s.2) = (Some(cosine), s.2.max(f64::from(cosine))),
                    None => suggested.push((i, Some(cosine), f64::from(cosine))),
                }
            }
            suggested.sort_by(|a, b| b.2.total_cmp(&a.2));
            suggested.truncate(3);
            for (i, cosine, _) in suggested {
                decided.push(self.scored(c, query, i, "suggested", cosine));
            }
        }
        decided
    }

    /// Commit `c` (its terms' vector `query`) and task `i` in `state`, with their score and
    /// shared terms.
    fn scored(
        &self,
        c: usize,
        query: &Vector,
        i: usize,
        state: &'static str,
        semantic: Option<f32>,
    ) -> Scored {
        let (score, shared) = self.index.vector(i).similarity(query);
        Scored {
            commit: c,
            task: i,
            state,
            score,
            semantic,
            shared: shared
                .into_iter()
                .take(5)
                .map(|t| self.corpus.term(t).to_owned())
                .collect(),
        }
    }

    /// For each unlinked commit, the tasks among the first `born` still alive at the commit's
    /// time whose embedding is closest to the commit's, the best [`NEAREST`] above the suggestion
    /// floor (none without a model or an embedding). One matrix product for them all.
    fn nearest(&self, commits: &[Unlinked]) -> Vec<Vec<(usize, f32)>> {
        let mut near = vec![Vec::new(); commits.len()];
        let Some(meaning) = &self.meaning else {
            return near;
        };
        let embedded: Vec<(usize, &[f32])> = commits
            .iter()
            .enumerate()
            .filter_map(|(row, u)| Some((row, meaning.commits[u.commit].as_deref()?)))
            .collect();
        let width = commits.iter().map(|u| u.born).max().unwrap_or(0);
        if embedded.is_empty() || width == 0 {
            return near;
        }
        let queries: Vec<&[f32]> = embedded.iter().map(|(_, e)| *e).collect();
        let cosines = meaning.tasks.cosines(&queries, width);
        let floor = self
            .settings
            .semantic
            .suggest
            .min(self.settings.semantic.link);
        for ((row, _), cosines) in embedded.iter().zip(cosines.chunks(width)) {
            let Unlinked { commit, born, .. } = &commits[*row];
            let at = self.commits[*commit].at.timestamp();
            let mut best: Vec<(usize, f32)> = cosines[..*born]
                .iter()
                .enumerate()
                .filter(|(i, cosine)| **cosine >= floor && at <= self.lifetimes[*i].1)
                .map(|(i, cosine)| (i, *cosine))
                .collect();
            best.sort_by(|a, b| b.1.total_cmp(&a.1));
            best.truncate(NEAREST);
            near[*row] = best;
        }
        near
    }
}

/// A commit the words did not link.
struct Unlinked {
    /// Its index in [`Scoring::commits`].
    commit: usize,
    /// How many tasks were born before it.
    born: usize,
    /// The words' suggestions (task, score).
    suggestions: Vec<(usize, f64)>,
    /// Its terms' vector.
    query: Vector,
}

/// How many tasks close in meaning one commit considers.
const NEAREST: usize = 3;

/// The times (Unix seconds) between which a commit may have worked on `task`.
fn lifetime(task: &TaskRow, now: DateTime<Utc>) -> (i64, i64) {
    // Task-list tasks carry the time of the scan that found them, not of their writing.
    let born = if task.source == "tasklist" {
        i64::MIN
    } else {
        (task.created_at - BEFORE_CREATION).timestamp()
    };
    (
        born,
        (task.closed_at.unwrap_or(now) + AFTER_CLOSING).timestamp(),
    )
}

/// The task each reference names, if it exists: our ids and keys anywhere in the tenant (so an
/// unknown key prefix links nothing), GitHub numbers in this repository or the one named.
async fn resolve(
    tx: &mut TenantTx,
    repository: Uuid,
    full_name: &str,
    tasks: &[TaskRow],
    found: &[(usize, Reference)],
) -> Result<Vec<Option<Uuid>>, sqlx::Error> {
    let keys: Vec<&str> = found
        .iter()
        .filter_map(|(_, r)| match &r.target {
            Target::Task(key) | Target::Key(key) => Some(key.as_str()),
            _ => None,
        })
        .collect();
    let by_key = links::tasks_by_key(tx, repository, &keys).await?;
    let mut others: HashMap<String, Option<Uuid>> = HashMap::new();
    let mut resolved = Vec::with_capacity(found.len());
    for (_, reference) in found {
        let task = match &reference.target {
            Target::Task(key) | Target::Key(key) => by_key.get(key).copied(),
            Target::GitHub {
                repository: named,
                number,
            } => {
                let number = number.to_string();
                match named {
                    Some(name) if !name.eq_ignore_ascii_case(full_name) => {
                        if !others.contains_key(name) {
                            let id: Option<Uuid> = sqlx::query_scalar(
                                "select id from repositories where lower(full_name) = lower($1) limit 1",
                            )
                            .bind(name)
                            .fetch_optional(&mut **tx)
                            .await?;
                            others.insert(name.clone(), id);
                        }
                        match others[name] {
                            Some(other) => links::github_task(tx, other, &number).await?,
                            None => None,
                        }
                    }
                    _ => tasks
                        .iter()
                        .find(|t| t.source != "tasklist" && t.external_key == number)
                        .map(|t| t.id),
                }
            }
            // Azure Boards items are not imported: nothing to link to.
            Target::AzureBoards(_) => None,
        };
        resolved.push(task);
    }
    Ok(resolved)
}

fn describe(target: &Target) -> String {
    match target {
        Target::Task(key) | Target::Key(key) => key.clone(),
        Target::GitHub {
            repository: Some(name),
            number,
        } => format!("{name}#{number}"),
        Target::GitHub { number, .. } => format!("#{number}"),
        Target::AzureBoards(number) => format!("AB#{number}"),
    }
}

/// Writes `rows` (what changed: never a similarity link over an explicit or manual one, nothing over
/// a manual or rejected link); returns how many rows of each method and state were written.
async fn insert(
    tx: &mut TenantTx,
    rows: &[Row],
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let column = |f: fn(&Row) -> String| rows.iter().map(f).collect::<Vec<String>>();
    let commits: Vec<Uuid> = rows.iter().map(|r| r.commit).collect();
    let tasks: Vec<Uuid> = rows.iter().map(|r| r.task).collect();
    let confidences: Vec<f32> = rows.iter().map(|r| r.confidence).collect();
    let evidence: Vec<Value> = rows.iter().map(|r| r.evidence.clone()).collect();
    // The tenant once for the statement (its column default would call the function per row).
    // Never: similarity over explicit or manual, anything over a manual link or a rejected one.
    let written: Vec<(String, String, i64)> = sqlx::query_as(
        "with written as (
         insert into commit_task_links (tenant_id, commit_id, task_id, method, relation, confidence, state, evidence)
         select (select current_tenant_id()), *
         from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::real[], $6::text[], $7::jsonb[])
         on conflict (tenant_id, commit_id, task_id) do update set
           method = excluded.method, relation = excluded.relation, confidence = excluded.confidence,
           state = excluded.state, evidence = excluded.evidence, updated_at = now()
         where commit_task_links.state <> 'rejected' and commit_task_links.method <> 'manual'
           and (commit_task_links.method = 'similarity' or excluded.method = 'explicit')
           and (commit_task_links.method, commit_task_links.relation, commit_task_links.confidence,
                commit_task_links.state, commit_task_links.evidence)
               is distinct from (excluded.method, excluded.relation, excluded.confidence, excluded.state, excluded.evidence)
         returning method, state)
         select method, state, count(*) from written group by method, state",
    )
    .bind(&commits)
    .bind(&tasks)
    .bind(column(|r| r.method.to_owned()))
    .bind(column(|r| r.relation.as_str().to_owned()))
    .bind(&confidences)
    .bind(column(|r| r.state.to_owned()))
    .bind(&evidence)
    .fetch_all(&mut **tx)
    .await?;
    Ok(written)
}

/// Withdraws the similarity rows of `scope` that are not `kept`, and closes the tasks of closing
/// links whose commit is on the default branch, once per link. Returns (withdrawn, closed).
async fn finish(
    tx: &mut TenantTx,
    scope: &[Uuid],
    kept: &[(Uuid, Uuid)],
) -> Result<(usize, usize), sqlx::Error> {
    let (commits, tasks): (Vec<Uuid>, Vec<Uuid>) = kept.iter().copied().unzip();
    let withdrawn = sqlx::query(
        "delete from commit_task_links l
         where l.commit_id = any($1) and l.method = 'similarity' and l.state <> 'rejected'
           and (l.commit_id, l.task_id) not in (select c, t from unnest($2::uuid[], $3::uuid[]) as kept (c, t))",
    )
    .bind(scope)
    .bind(&commits)
    .bind(&tasks)
    .execute(&mut **tx)
    .await?
    .rows_affected() as usize;
    // Each closing link closes its task once; the task's project counts it at once.
    let closed: i64 = sqlx::query_scalar(
        "with closing as (
           update commit_task_links l set closed_task_at = now()
           from commits c
           where l.commit_id = any($1) and c.id = l.commit_id and c.on_default_branch
             and l.method = 'explicit' and l.relation = 'closes' and l.state = 'active'
             and l.closed_task_at is null
           returning l.task_id, coalesce(c.committed_at, c.authored_at, c.created_at) as at
         ), closed as (
           update tasks t set status = 'done', closed_at = coalesce(t.closed_at, c.at), updated_at = now()
           from (select task_id, min(at) as at from closing group by task_id) c
           where t.id = c.task_id and t.status not in ('done', 'cancelled')
           returning t.id, t.project_id
         ), counted as (
           update projects p set tasks_done = p.tasks_done + n.closed, updated_at = now()
           from (select project_id, count(*) as closed from closed where project_id is not null group by project_id) n
           where p.id = n.project_id
           returning p.id
         )
         select count(*) from closed",
    )
    .bind(scope)
    .fetch_one(&mut **tx)
    .await?;
    Ok((withdrawn, closed as usize))
}
