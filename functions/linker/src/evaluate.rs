//! The linking benchmark's protocol (`shared/fixtures/linking/README.md`) for any directory laid out
//! like it: one folder per project with `issues.jsonl`, `commits.jsonl`, `pairs.jsonl`. Every pair is
//! scored with the service's own similarity ([`crate::similarity`]) on both message variants, and
//! judged two ways:
//! - `service`: the decision the service makes with its default [`Settings`]: one task per commit,
//!   among the commit's candidate pairs, when it clears the threshold and the margin;
//! - `fold_tuned`: the protocol's figure, a plain threshold tuned on the other fold (folds split by
//!   `CRC-32(issue id) mod 2`), pooled over both folds;
//! - `hybrid` (with a model, [`crate::semantic`]): the service's decision by words and by meaning, as
//!   it links: a commit the words leave unlinked goes to the candidate closest in meaning when their
//!   cosine reaches the threshold. The issue title and the commit message (never the files' names)
//!   are embedded, as the service embeds a task's title and a commit's message.
//!
//! ROC-AUC is over the raw scores of all pairs, ties taking average ranks (for `hybrid`: of the
//! embeddings' cosine alone).

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
};

use anyhow::Context as _;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{
    semantic::{self, Embed},
    similarity::{
        Candidate, Corpus, Decision, Settings, commit_terms, commit_text, decide, task_terms,
    },
};

/// The variants of the benchmark: each message alone, then with the changed files' names (what the
/// service reads; the protocol reports it separately).
pub const VARIANTS: [&str; 4] = [
    "message",
    "message_hard",
    "message+files",
    "message_hard+files",
];

/// Precision, recall, F1 (and AUC) of one judgement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Their harmonic mean.
    pub f1: f64,
    /// ROC-AUC of the scores.
    pub auc: f64,
}

/// Both judgements of one project and variant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evaluation {
    /// With the service's decision and default settings.
    pub service: Metrics,
    /// With the protocol's 2-fold tuned threshold.
    pub fold_tuned: Metrics,
    /// With the service's decision by words and meaning (with a model).
    pub hybrid: Option<Metrics>,
}

#[derive(Deserialize)]
struct Issue {
    id: String,
    title: String,
}

#[derive(Deserialize)]
struct Commit {
    sha: String,
    message: String,
    message_hard: String,
    #[serde(default)]
    files: Vec<String>,
}

#[derive(Deserialize)]
struct Pair {
    sha: String,
    issue_id: String,
    label: u8,
}

/// Every project under `dir` (a folder holding `pairs.jsonl`), by name, then by variant; by meaning
/// too with a `model`.
pub fn evaluate_dir(
    dir: &Path,
    settings: &Settings,
    model: Option<&dyn Embed>,
) -> anyhow::Result<BTreeMap<String, BTreeMap<&'static str, Evaluation>>> {
    let mut results = BTreeMap::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    for entry in entries {
        let project = entry?.path();
        if !project.join("pairs.jsonl").is_file() {
            continue;
        }
        let name = project
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        results.insert(name, evaluate_project(&project, settings, model)?);
    }
    anyhow::ensure!(
        !results.is_empty(),
        "{}: no project folder with issues.jsonl, commits.jsonl and pairs.jsonl",
        dir.display()
    );
    Ok(results)
}

/// One project folder, every variant.
pub fn evaluate_project(
    dir: &Path,
    settings: &Settings,
    model: Option<&dyn Embed>,
) -> anyhow::Result<BTreeMap<&'static str, Evaluation>> {
    let issues: Vec<Issue> = read_lines(&dir.join("issues.jsonl"))?;
    let commits: Vec<Commit> = read_lines(&dir.join("commits.jsonl"))?;
    let pairs: Vec<Pair> = read_lines(&dir.join("pairs.jsonl"))?;
    let meaning = model
        .map(|model| Meaning::new(model, &issues, &commits))
        .transpose()?;
    let mut results = BTreeMap::new();
    for variant in VARIANTS {
        let issue_terms: HashMap<&str, Vec<String>> = issues
            .iter()
            .map(|i| (i.id.as_str(), task_terms(&i.title, "", &[])))
            .collect();
        let commit_terms: HashMap<&str, Vec<String>> = commits
            .iter()
            .map(|c| {
                let message = if variant.starts_with("message_hard") {
                    &c.message_hard
                } else {
                    &c.message
                };
                let files: &[String] = if variant.ends_with("+files") {
                    &c.files
                } else {
                    &[]
                };
                (c.sha.as_str(), commit_terms(message, files))
            })
            .collect();
        let corpus = Corpus::new(
            issue_terms
                .values()
                .chain(commit_terms.values())
                .map(Vec::as_slice),
        );
        let issue_vectors: HashMap<&str, _> = issue_terms
            .iter()
            .map(|(id, t)| (*id, corpus.vector(t)))
            .collect();
        let commit_vectors: HashMap<&str, _> = commit_terms
            .iter()
            .map(|(sha, t)| (*sha, corpus.vector(t)))
            .collect();
        let mut scored = Vec::with_capacity(pairs.len());
        let mut shared = Vec::with_capacity(pairs.len());
        for pair in &pairs {
            let issue = issue_vectors
                .get(pair.issue_id.as_str())
                .with_context(|| format!("pair names unknown issue {}", pair.issue_id))?;
            let commit = commit_vectors
                .get(pair.sha.as_str())
                .with_context(|| format!("pair names unknown commit {}", pair.sha))?;
            let (score, terms) = issue.similarity(commit);
            scored.push((score, pair.label == 1));
            shared.push(terms.len());
        }
        // The service's decision: per commit, among its candidates.
        let mut by_commit: HashMap<&str, Vec<Candidate<usize>>> = HashMap::new();
        for (row, pair) in pairs.iter().enumerate() {
            by_commit
                .entry(pair.sha.as_str())
                .or_default()
                .push(Candidate {
                    task: row,
                    score: scored[row].0,
                    shared: shared[row],
                });
        }
        let mut linked = vec![false; pairs.len()];
        let mut hybrid = vec![false; pairs.len()];
        let hard = variant.starts_with("message_hard");
        for (sha, candidates) in &by_commit {
            match decide(candidates, settings) {
                Decision::Link(row, _) => (linked[row], hybrid[row]) = (true, true),
                // As the service: a commit without terms is not scored at all.
                Decision::Suggest(_) if commit_terms[sha].is_empty() => {}
                Decision::Suggest(_) => {
                    if let Some(meaning) = &meaning {
                        let near = candidates
                            .iter()
                            .map(|c| (c.task, meaning.cosine(&pairs[c.task], hard)));
                        if let Some((row, _)) = semantic::closest(near, settings.semantic.link) {
                            hybrid[row] = true;
                        }
                    }
                }
            }
        }
        let hybrid = meaning.as_ref().map(|meaning| {
            let cosines: Vec<(f64, bool)> = pairs
                .iter()
                .map(|p| (f64::from(meaning.cosine(p, hard)), p.label == 1))
                .collect();
            metrics(
                hybrid
                    .iter()
                    .zip(&pairs)
                    .map(|(p, pair)| (*p, pair.label == 1)),
                auc(&cosines),
            )
        });
        let auc = auc(&scored);
        let service = metrics(
            scored
                .iter()
                .zip(&linked)
                .map(|((_, label), p)| (*p, *label)),
            auc,
        );
        let folds: Vec<u32> = pairs
            .iter()
            .map(|p| crc32fast::hash(p.issue_id.as_bytes()) % 2)
            .collect();
        let mut predictions = vec![false; pairs.len()];
        for fold in 0..2 {
            let train: Vec<(f64, bool)> = scored
                .iter()
                .zip(&folds)
                .filter(|(_, f)| **f != fold)
                .map(|(s, _)| *s)
                .collect();
            let threshold = best_threshold(&train);
            for (row, f) in folds.iter().enumerate() {
                if *f == fold {
                    predictions[row] = scored[row].0 >= threshold;
                }
            }
        }
        let fold_tuned = metrics(
            scored
                .iter()
                .zip(&predictions)
                .map(|((_, label), p)| (*p, *label)),
            auc,
        );
        results.insert(
            variant,
            Evaluation {
                service,
                fold_tuned,
                hybrid,
            },
        );
    }
    Ok(results)
}

/// The embeddings of a project's issue titles and commit messages (both variants).
struct Meaning {
    issues: HashMap<String, Vec<f32>>,
    /// By sha: the embedding of `message`, then of `message_hard`.
    commits: HashMap<String, (Vec<f32>, Vec<f32>)>,
}

impl Meaning {
    fn new(model: &dyn Embed, issues: &[Issue], commits: &[Commit]) -> anyhow::Result<Self> {
        // Each distinct text once (`message_hard` is often `message`).
        let mut texts: Vec<String> = issues.iter().map(|i| i.title.clone()).collect();
        for commit in commits {
            texts.push(commit_text(&commit.message));
            texts.push(commit_text(&commit.message_hard));
        }
        let mut distinct: Vec<&str> = texts.iter().map(String::as_str).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let embedded: HashMap<&str, Vec<f32>> = distinct
            .iter()
            .copied()
            .zip(model.embed(&distinct)?)
            .collect();
        let of = |text: &str| embedded[text].clone();
        Ok(Self {
            issues: issues
                .iter()
                .map(|i| (i.id.clone(), of(&i.title)))
                .collect(),
            commits: commits
                .iter()
                .map(|c| {
                    (
                        c.sha.clone(),
                        (
                            of(&commit_text(&c.message)),
                            of(&commit_text(&c.message_hard)),
                        ),
                    )
                })
                .collect(),
        })
    }

    /// The cosine of a pair's issue title and commit message (`hard`: its `message_hard`).
    fn cosine(&self, pair: &Pair, hard: bool) -> f32 {
        match (self.issues.get(&pair.issue_id), self.commits.get(&pair.sha)) {
            (Some(issue), Some((message, message_hard))) => {
                semantic::cosine(issue, if hard { message_hard } else { message })
            }
            _ => 0.0,
        }
    }
}

fn read_lines<T: DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a valid record", path.display(), n + 1))
        })
        .collect()
}

/// Metrics of `(predicted, actual)` pairs.
pub fn metrics(judged: impl Iterator<Item = (bool, bool)>, auc: f64) -> Metrics {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (predicted, actual) in judged {
        match (predicted, actual) {
            (true, true) => tp += 1.0,
            (true, false) => fp += 1.0,
            (false, true) => fn_ += 1.0,
            (false, false) => {}
        }
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let precision = ratio(tp, tp + fp);
    let recall = ratio(tp, tp + fn_);
    Metrics {
        precision,
        recall,
        f1: ratio(2.0 * precision * recall, precision + recall),
        auc,
    }
}

/// The threshold (predict iff `score >= θ`) with the best F1 on `scored`.
pub fn best_threshold(scored: &[(f64, bool)]) -> f64 {
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| b.0.total_cmp(&a.0));
    let positives = sorted.iter().filter(|(_, l)| *l).count() as f64;
    let (mut best, mut best_f1, mut tp, mut taken) = (f64::INFINITY, -1.0, 0.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        // Everything scoring this value or more is predicted.
        let value = sorted[i].0;
        while i < sorted.len() && sorted[i].0 == value {
            tp += f64::from(u8::from(sorted[i].1));
            taken += 1.0;
            i += 1;
        }
        let f1 = if positives > 0.0 {
            2.0 * tp / (taken + positives)
        } else {
            0.0
        };
        if f1 > best_f1 {
            (best, best_f1) = (value, f1);
        }
    }
    best
}

/// ROC-AUC by the rank-sum (Mann–Whitney) formula, ties taking average ranks.
pub fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut sorted: Vec<(f64, bool)> = scored.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < sorted.len() {
        let mut j = i;
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            j += 1;
        }
        let average_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += average_rank * sorted[i..j].iter().filter(|(_, l)| *l).count() as f64;
        i = j;
    }
    let positives = sorted.iter().filter(|(_, l)| *l).count() as f64;
    let negatives = sorted.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return 0.5;
    }
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_as_half() {
        assert_eq!(auc(&[(0.9, true), (0.1, false)]), 1.0);
        assert_eq!(auc(&[(0.1, true), (0.9, false)]), 0.0);
        assert_eq!(auc(&[(0.5, true), (0.5, false)]), 0.5);
        assert_eq!(
            auc(&[(0.9, true), (0.5, true), (0.5, false), (0.1, false)]),
            0.875
        );
    }

    #[test]
    fn the_best_threshold_maximises_f1() {
        let scored = [
            (0.9, true),
            (0.8, true),
            (0.7, false),
            (0.6, true),
            (0.1, false),
        ];
        assert_eq!(best_threshold(&scored), 0.6);
        let m = metrics(scored.iter().map(|(s, l)| (*s >= 0.6, *l)), 0.0);
        assert_eq!((m.precision, m.recall), (0.75, 1.0));
        assert!((m.f1 - 6.0 / 7.0).abs() < 1e-12);
    }
}
