//! Implicit links by text similarity: sublinear TF-IDF with cosine between a task (title counted
//! twice, body, labels) and a commit (its message without explicit references, trailers and
//! `git-svn-id` lines), IDF per repository. One task per commit: the best candidate links when its
//! score clears [`Settings::threshold`] and leads the runner-up by [`Settings::margin`]; candidates
//! above [`Settings::suggest`] become suggestions. The shared terms explain each decision.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use regex::Regex;

/// The decision rule. [`Settings::default`] is what the service uses, and what `eval-linker`
/// evaluates; it was fixed before the benchmark was run, not tuned on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// The lowest cosine that links.
    pub threshold: f64,
    /// How far the best candidate must lead the second.
    pub margin: f64,
    /// The lowest cosine that is suggested to a person.
    pub suggest: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threshold: 0.30,
            margin: 0.05,
            suggest: 0.15,
        }
    }
}

/// English function words and words every commit or task uses.
const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "been",
    "but",
    "by",
    "can",
    "do",
    "does",
    "for",
    "from",
    "has",
    "have",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "not",
    "of",
    "on",
    "or",
    "so",
    "that",
    "the",
    "their",
    "then",
    "there",
    "these",
    "this",
    "to",
    "was",
    "were",
    "when",
    "which",
    "will",
    "with",
    "would",
    "we",
    "you",
    "our",
    "all",
    "also",
    "add",
    "added",
    "adds",
    "fix",
    "fixed",
    "fixes",
    "use",
    "used",
    "uses",
    "should",
    "make",
    "new",
    "now",
    "via",
    "patch",
    "contributed",
    "signed",
    "off",
    "co",
    "authored",
    "reviewed",
];

/// The terms of a text: identifiers split on camelCase, acronyms, `snake_case`, kebab-case and path
/// separators; lower case; no stopwords, one-letter tokens, numbers or hex hashes.
pub fn terms(text: &str) -> Vec<String> {
    static STOP: LazyLock<HashSet<&'static str>> =
        LazyLock::new(|| STOPWORDS.iter().copied().collect());
    let mut terms = Vec::new();
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        for part in split_case(word) {
            let lower = part.to_lowercase();
            let hexlike = lower.len() >= 7 && lower.chars().all(|c| c.is_ascii_hexdigit());
            if lower.chars().count() <= 1
                || lower.chars().all(|c| c.is_ascii_digit())
                || hexlike
                || STOP.contains(lower.as_str())
            {
                continue;
            }
            terms.push(stem(lower));
        }
    }
    terms
}

/// A light English stemmer (plural `s`, `-ing`, `-ed`), so that `uploads`, `uploading` and
/// `uploaded` meet as `upload`.
fn stem(mut word: String) -> String {
    if word.len() > 4 && word.ends_with("ies") {
        word.truncate(word.len() - 3);
        word.push('y');
    } else if word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
    {
        word.pop();
    }
    for suffix in ["ing", "ed"] {
        if word.len() >= suffix.len() + 4 && word.ends_with(suffix) {
            word.truncate(word.len() - suffix.len());
            // running → run, but not fall → fal
            let bytes = word.as_bytes();
            let n = bytes.len();
            if bytes[n - 1] == bytes[n - 2] && !matches!(bytes[n - 1], b'l' | b's' | b'z') {
                word.pop();
            }
            break;
        }
    }
    word
}

/// `parseHTTPHeader2` → `parse`, `HTTP`, `Header2`.
fn split_case(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (at, c) = chars[i];
        let prev = chars[i - 1].1;
        let next_lower = chars.get(i + 1).is_some_and(|(_, n)| n.is_lowercase());
        let boundary = (prev.is_lowercase() && c.is_uppercase())
            || (prev.is_uppercase() && c.is_uppercase() && next_lower);
        if boundary {
            parts.push(&word[start..at]);
            start = at;
        }
    }
    if start < word.len() {
        parts.push(&word[start..]);
    }
    parts
}

/// What of a commit message speaks about the work: without explicit references (they link on their
/// own), trailers (`Signed-off-by:`, `Co-authored-by:`, …) and `git-svn-id:` lines.
pub fn commit_text(message: &str) -> String {
    static TRAILER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?im)^(?:[A-Za-z][A-Za-z-]*-by|git-svn-id|Change-Id|Reviewed-on):.*$")
            .expect("valid")
    });
    static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\bTASK-[A-Z][A-Z0-9]*-[0-9]+\b|\b[A-Z][A-Z0-9_]+-[0-9]+\b|AB#[0-9]+|#[0-9]+\b")
            .expect("valid")
    });
    let text = TRAILER.replace_all(message, "");
    REFERENCE.replace_all(&text, " ").into_owned()
}

/// The terms of a commit: its message (see [`commit_text`]) and the names of the files it changed,
/// each name's terms once (a commit touching fifty files is not fifty times about their words).
pub fn commit_terms<S: AsRef<str>>(message: &str, paths: &[S]) -> Vec<String> {
    let mut all = terms(&commit_text(message));
    let mut seen = HashSet::new();
    for path in paths {
        let name = path.as_ref().rsplit('/').next().unwrap_or_default();
        let stem = name.split_once('.').map_or(name, |(stem, _)| stem);
        for term in terms(stem) {
            if seen.insert(term.clone()) {
                all.push(term);
            }
        }
    }
    all
}

/// The terms of a task: its title twice, its body and labels once.
pub fn task_terms(title: &str, body: &str, labels: &[String]) -> Vec<String> {
    let mut all = terms(title);
    all.extend(terms(title));
    all.extend(terms(body));
    for label in labels {
        all.extend(terms(label));
    }
    all
}

/// A document as a unit vector of TF-IDF weights.
#[derive(Debug, Clone, Default)]
pub struct Vector(HashMap<String, f64>);

impl Vector {
    /// The cosine of two unit vectors and the terms they share, heaviest first (at most five).
    pub fn similarity(&self, other: &Vector) -> (f64, Vec<String>) {
        let (small, large) = if self.0.len() <= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut shared: Vec<(f64, &String)> = small
            .0
            .iter()
            .filter_map(|(term, w)| large.0.get(term).map(|v| (w * v, term)))
            .collect();
        let score = shared.iter().map(|(w, _)| w).sum();
        shared.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        (
            score,
            shared.into_iter().take(5).map(|(_, t)| t.clone()).collect(),
        )
    }
}

/// Document frequencies of one repository (its tasks and commits).
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    documents: usize,
    frequency: HashMap<String, usize>,
}

impl Corpus {
    /// The corpus of `documents` (each a list of terms).
    pub fn new<'a>(documents: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut corpus = Self::default();
        for document in documents {
            corpus.documents += 1;
            let unique: HashSet<&String> = document.iter().collect();
            for term in unique {
                *corpus.frequency.entry(term.clone()).or_default() += 1;
            }
        }
        corpus
    }

    /// `terms` weighted `(1 + ln tf) · (ln((1 + N) / (1 + df)) + 1)`, L2-normalised.
    pub fn vector(&self, terms: &[String]) -> Vector {
        let mut counts: HashMap<&String, usize> = HashMap::new();
        for term in terms {
            *counts.entry(term).or_default() += 1;
        }
        let n = self.documents as f64;
        let mut weights: HashMap<String, f64> = counts
            .into_iter()
            .map(|(term, tf)| {
                let df = self.frequency.get(term).copied().unwrap_or(0) as f64;
                let idf = ((1.0 + n) / (1.0 + df)).ln() + 1.0;
                (term.clone(), (1.0 + (tf as f64).ln()) * idf)
            })
            .collect();
        let norm = weights.values().map(|w| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            weights.values_mut().for_each(|w| *w /= norm);
        }
        Vector(weights)
    }
}

/// Task vectors with postings per term, to score a commit against every task at once.
#[derive(Debug, Default)]
pub struct Index {
    vectors: Vec<Vector>,
    /// Per term: the tasks holding it and their weights (compact: scoring walks these).
    postings: HashMap<String, (Vec<u32>, Vec<f32>)>,
}

impl Index {
    /// The index of `vectors` (task `i` is `vectors[i]`).
    pub fn new(vectors: Vec<Vector>) -> Self {
        let mut postings: HashMap<String, (Vec<u32>, Vec<f32>)> = HashMap::new();
        for (i, vector) in vectors.iter().enumerate() {
            for (term, weight) in &vector.0 {
                let (tasks, weights) = postings.entry(term.clone()).or_default();
                tasks.push(u32::try_from(i).expect("fewer than 4 billion tasks"));
                weights.push(*weight as f32);
            }
        }
        Self { vectors, postings }
    }

    /// A scorer over this index, with its own scratch space (one per thread).
    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            index: self,
            sums: vec![0.0; self.vectors.len()],
            touched: Vec::new(),
        }
    }

    /// The vector of task `i`.
    pub fn vector(&self, i: usize) -> &Vector {
        &self.vectors[i]
    }
}

/// Scores queries against an [`Index`], reusing its buffers between queries.
#[derive(Debug)]
pub struct Scorer<'a> {
    index: &'a Index,
    sums: Vec<f32>,
    touched: Vec<usize>,
}

impl Scorer<'_> {
    /// The cosine of `query` with the tasks `wanted` accepts that score at least `floor`, and the
    /// best two whatever their score (so that [`decide`] sees the true runner-up).
    pub fn scores(
        &mut self,
        query: &Vector,
        wanted: impl Fn(usize) -> bool,
        floor: f64,
    ) -> Vec<(usize, f64)> {
        for (term, weight) in &query.0 {
            let Some((tasks, weights)) = self.index.postings.get(term) else {
                continue;
            };
            let weight = *weight as f32;
            for (&task, &task_weight) in tasks.iter().zip(weights) {
                let task = task as usize;
                if self.sums[task] == 0.0 {
                    self.touched.push(task);
                }
                self.sums[task] += weight * task_weight;
            }
        }
        let mut scores = Vec::new();
        let mut best: [Option<(usize, f64)>; 2] = [None, None];
        for task in self.touched.drain(..) {
            let score = f64::from(std::mem::take(&mut self.sums[task]));
            if !wanted(task) {
                continue;
            }
            if score >= floor {
                scores.push((task, score));
            } else if best[1].is_none_or(|(_, s)| score > s) {
                best[1] = Some((task, score));
                if best[0].is_none_or(|(_, s)| score > s) {
                    best.swap(0, 1);
                }
            }
        }
        // The best below the floor matter only as runner-ups.
        scores.extend(
            best.into_iter()
                .flatten()
                .take(2usize.saturating_sub(scores.len())),
        );
        scores
    }
}

/// What to do with one commit's candidates.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<T> {
    /// Link it to this task with this score.
    Link(T, f64),
    /// Suggest these tasks (best first) for a person to confirm.
    Suggest(Vec<(T, f64)>),
}

/// The decision for a commit whose candidates scored `scores`.
pub fn decide<T: Clone>(scores: &[(T, f64)], settings: &Settings) -> Decision<T> {
    // The best two in one pass: candidates can be thousands, links and suggestions a few.
    let (mut best, mut second): (Option<&(T, f64)>, f64) = (None, 0.0);
    for candidate in scores {
        match best {
            Some(b) if candidate.1 <= b.1 => second = second.max(candidate.1),
            _ => {
                second = best.map_or(second, |b| b.1);
                best = Some(candidate);
            }
        }
    }
    if let Some((task, score)) = best
        && *score >= settings.threshold
        && score - second >= settings.margin
    {
        return Decision::Link(task.clone(), *score);
    }
    let mut suggestions: Vec<(T, f64)> = scores
        .iter()
        .filter(|(_, s)| *s >= settings.suggest)
        .cloned()
        .collect();
    suggestions.sort_by(|a, b| b.1.total_cmp(&a.1));
    suggestions.truncate(3);
    Decision::Suggest(suggestions)
}

/// The confidence of a similarity link: below an explicit link's 1.0 whatever the score.
pub fn confidence(score: f64) -> f32 {
    score.clamp(0.0, 0.95) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_and_noise_is_dropped() {
        assert_eq!(
            terms("Fix parseHTTPHeader in src/net/http_client.rs (v2) 3f9a2b7c and a-b"),
            [
                "parse", "http", "header", "src", "net", "http", "client", "rs", "v2"
            ]
        );
    }

    #[test]
    fn commit_text_drops_references_and_trailers() {
        assert_eq!(
            commit_text("TASK-AUTH-12 Log in (#4)\n\nSigned-off-by: A <a@b>\ngit-svn-id: x@1")
                .trim(),
            "Log in ( )"
        );
    }

    #[test]
    fn the_best_candidate_links_only_with_a_lead() {
        let settings = Settings::default();
        assert_eq!(
            decide(&[("a", 0.8), ("b", 0.2)], &settings),
            Decision::Link("a", 0.8)
        );
        assert_eq!(
            decide(&[("a", 0.8), ("b", 0.78), ("c", 0.01)], &settings),
            Decision::Suggest(vec![("a", 0.8), ("b", 0.78)])
        );
        assert_eq!(decide::<&str>(&[], &settings), Decision::Suggest(vec![]));
    }

    #[test]
    fn cosine_of_shared_terms() {
        let docs = [terms("login page broken"), terms("database migration slow")];
        let corpus = Corpus::new(docs.iter().map(Vec::as_slice));
        let task = corpus.vector(&docs[0]);
        let (score, shared) = task.similarity(&corpus.vector(&terms("repair the login page")));
        assert!(score > 0.5, "{score}");
        assert_eq!(shared.len(), 2);
        assert!(shared.contains(&"login".to_owned()) && shared.contains(&"page".to_owned()));
        let (unrelated, none) = task.similarity(&corpus.vector(&terms("slow migration")));
        assert_eq!((unrelated, none.len()), (0.0, 0));
    }

    #[test]
    fn the_scorer_keeps_what_clears_the_floor_and_the_true_runner_up() {
        let tasks = [
            terms("login page broken"),
            terms("login button colour"),
            terms("database migration slow"),
            terms("page footer links"),
        ];
        let corpus = Corpus::new(tasks.iter().map(Vec::as_slice));
        let index = Index::new(tasks.iter().map(|t| corpus.vector(t)).collect());
        let mut scorer = index.scorer();
        let query = corpus.vector(&terms("login page"));
        let every = scorer.scores(&query, |_| true, 0.0);
        let mut floored = scorer.scores(&query, |_| true, 0.6);
        floored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut expected = every.clone();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(every.len(), 3, "the migration shares nothing");
        assert_eq!(
            floored.len(),
            2,
            "the best, and the runner-up below the floor"
        );
        // The two below the floor tie: either is the runner-up, with the same score.
        assert_eq!(floored[0], expected[0]);
        assert_eq!(floored[1].1, expected[1].1);
        assert_eq!(
            decide(&floored, &Settings::default()),
            decide(&every, &Settings::default())
        );
        // Tasks not alive at the commit's time are no candidates.
        assert!(scorer.scores(&query, |i| i == 2, 0.0).is_empty());
    }
}
