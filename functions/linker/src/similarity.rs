//! Implicit links by text similarity: sublinear TF-IDF with cosine between a task (title counted
//! twice, body, labels) and a commit (its message without explicit references, trailers,
//! `git-svn-id` lines and attributions), IDF per repository. One task per commit: the best candidate
//! links when its score clears [`Settings::threshold`], leads the runner-up by [`Settings::margin`]
//! and shares at least [`Settings::min_shared_terms`] terms with the commit; such candidates above
//! [`Settings::suggest`] become suggestions. The shared terms explain each decision.

use std::{
    collections::{HashMap, HashSet},
    sync::LazyLock,
};

use regex::Regex;

use crate::semantic::Semantic;

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
    /// How many terms a task must share with a commit to be linked or suggested: one word in
    /// common (a component's name, a person's) explains nothing.
    pub min_shared_terms: usize,
    /// Linking by meaning, where the linker has a model ([`crate::semantic`]).
    pub semantic: Semantic,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            threshold: 0.30,
            margin: 0.05,
            suggest: 0.15,
            min_shared_terms: 2,
            semantic: Semantic::default(),
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
        split_case(word, |part| {
            // One-letter tokens and numbers, before spending a string on them.
            if part.chars().nth(1).is_none() || part.bytes().all(|b| b.is_ascii_digit()) {
                return;
            }
            let lower = part.to_lowercase();
            let hexlike = lower.len() >= 7 && lower.bytes().all(|b| b.is_ascii_hexdigit());
            if lower.chars().nth(1).is_none() || hexlike || STOP.contains(lower.as_str()) {
                return;
            }
            terms.push(stem(lower));
        });
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

/// `parseHTTPHeader2` → `parse`, `HTTP`, `Header2`, each given to `part` (nothing for `""`).
fn split_case<'a>(word: &'a str, mut part: impl FnMut(&'a str)) {
    let mut chars = word.char_indices().peekable();
    let Some((_, mut prev)) = chars.next() else {
        return;
    };
    let mut start = 0;
    while let Some((at, c)) = chars.next() {
        let next_lower = chars.peek().is_some_and(|(_, n)| n.is_lowercase());
        if (prev.is_lowercase() && c.is_uppercase())
            || (prev.is_uppercase() && c.is_uppercase() && next_lower)
        {
            part(&word[start..at]);
            start = at;
        }
        prev = c;
    }
    part(&word[start..]);
}

/// `text` without attributions: who wrote or committed a change says nothing of what it is about,
/// and names would match every other change of the same people. Removed: a parenthesised group
/// with `via` (`(Jane Doe via jdoe)`) and `Contributed by`, `Patch by`, `Submitted by`, `Reviewed
/// by` to the end of their line.
pub fn without_attributions(text: &str) -> std::borrow::Cow<'_, str> {
    static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\([^()\n]*\bvia\b[^()\n]*\)|\b(?:contributed|patch|submitted|reviewed)\s+by\b.*",
        )
        .expect("valid")
    });
    ATTRIBUTION.replace_all(text, " ")
}

/// What of a commit message speaks about the work: without explicit references (they link on their
/// own), trailers (`Signed-off-by:`, `Co-authored-by:`, …), `git-svn-id:` lines and attributions
/// ([`without_attributions`]).
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
    let text = without_attributions(&text);
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

/// The terms of a task: its title twice, its body and labels once (without attributions).
pub fn task_terms(title: &str, body: &str, labels: &[String]) -> Vec<String> {
    let mut all = terms(&without_attributions(title));
    all.extend_from_within(..);
    all.extend(terms(&without_attributions(body)));
    for label in labels {
        all.extend(terms(label));
    }
    all
}

/// A document as a unit vector of TF-IDF weights, by term number ([`Corpus::term`]).
#[derive(Debug, Clone, Default)]
pub struct Vector(Vec<(u32, f64)>);

impl Vector {
    /// The cosine of two unit vectors and every term they share (by number), heaviest first.
    pub fn similarity(&self, other: &Vector) -> (f64, Vec<u32>) {
        // Both are in term order: one merging pass.
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        let mut shared: Vec<(f64, u32)> = Vec::new();
        while let (Some(&&(x, v)), Some(&&(y, w))) = (a.peek(), b.peek()) {
            match x.cmp(&y) {
                std::cmp::Ordering::Less => _ = a.next(),
                std::cmp::Ordering::Greater => _ = b.next(),
                std::cmp::Ordering::Equal => {
                    shared.push((v * w, x));
                    a.next();
                    b.next();
                }
            }
        }
        let score = shared.iter().map(|(w, _)| w).sum();
        shared.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        (score, shared.into_iter().map(|(_, t)| t).collect())
    }
}

/// The terms of one repository's documents (tasks and commits), numbered, with their document
/// frequencies.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    documents: usize,
    numbers: HashMap<String, u32>,
    terms: Vec<String>,
    frequency: Vec<u32>,
}

impl Corpus {
    /// The corpus of `documents` (each a list of terms).
    pub fn new<'a>(documents: impl IntoIterator<Item = &'a [String]>) -> Self {
        let mut corpus = Self::default();
        let mut seen: Vec<u32> = Vec::new();
        for document in documents {
            corpus.documents += 1;
            seen.clear();
            for term in document {
                let number = match corpus.numbers.get(term.as_str()) {
                    Some(number) => *number,
                    None => {
                        let number =
                            u32::try_from(corpus.terms.len()).expect("fewer than 4 billion terms");
                        corpus.numbers.insert(term.clone(), number);
                        corpus.terms.push(term.clone());
                        corpus.frequency.push(0);
                        number
                    }
                };
                seen.push(number);
            }
            seen.sort_unstable();
            seen.dedup();
            for number in &seen {
                corpus.frequency[*number as usize] += 1;
            }
        }
        corpus
    }

    /// The term numbered `number`.
    pub fn term(&self, number: u32) -> &str {
        &self.terms[number as usize]
    }

    /// `terms` weighted `(1 + ln tf) · (ln((1 + N) / (1 + df)) + 1)`, L2-normalised. A term the
    /// corpus does not know weighs in the norm but matches nothing.
    pub fn vector(&self, terms: &[String]) -> Vector {
        let mut numbers: Vec<Result<u32, &str>> = terms
            .iter()
            .map(|t| self.numbers.get(t.as_str()).copied().ok_or(t.as_str()))
            .collect();
        numbers.sort_unstable();
        let n = self.documents as f64;
        let (mut weights, mut norm) = (Vec::new(), 0.0);
        for run in numbers.chunk_by(|a, b| a == b) {
            let tf = run.len() as f64;
            let df = run[0].map_or(0.0, |t| f64::from(self.frequency[t as usize]));
            let weight = (1.0 + tf.ln()) * (((1.0 + n) / (1.0 + df)).ln() + 1.0);
            norm += weight * weight;
            if let Ok(term) = run[0] {
                weights.push((term, weight));
            }
        }
        let norm = f64::sqrt(norm);
        if norm > 0.0 {
            weights.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        Vector(weights)
    }
}

/// Task vectors with postings per term, to score a commit against every task at once.
#[derive(Debug, Default)]
pub struct Index {
    vectors: Vec<Vector>,
    /// Per term number: the tasks holding it, in task order, and their weights (compact: scoring
    /// walks these).
    postings: Vec<(Vec<u32>, Vec<f32>)>,
}

impl Index {
    /// The index of `vectors` (task `i` is `vectors[i]`) over the terms of `corpus`.
    pub fn new(corpus: &Corpus, vectors: Vec<Vector>) -> Self {
        let mut postings: Vec<(Vec<u32>, Vec<f32>)> = vec![Default::default(); corpus.terms.len()];
        for (i, vector) in vectors.iter().enumerate() {
            for (term, weight) in &vector.0 {
                let (tasks, weights) = &mut postings[*term as usize];
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
            shared: vec![0; self.vectors.len()],
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
    shared: Vec<u32>,
    touched: Vec<usize>,
}

/// A task a commit may have worked on: which, the cosine, and how many terms they share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate<T> {
    /// The task (an index, an id, a benchmark row).
    pub task: T,
    /// The cosine of the two documents.
    pub score: f64,
    /// How many terms the two documents share.
    pub shared: usize,
}

impl Scorer<'_> {
    /// The cosine of `query` with the tasks among the first `limit` that `wanted` accepts and that
    /// score at least `floor`, and the best two whatever their score (so that [`decide`] sees the
    /// true runner-up). Tasks past `limit` are not even looked at: order the index so that the
    /// tasks a query can want come first (the linker orders them by birth).
    pub fn scores(
        &mut self,
        query: &Vector,
        limit: usize,
        wanted: impl Fn(usize) -> bool,
        floor: f64,
    ) -> Vec<Candidate<usize>> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        for (term, weight) in &query.0 {
            let Some((tasks, weights)) = self.index.postings.get(*term as usize) else {
                continue;
            };
            let weight = *weight as f32;
            // Postings are in task order.
            let end = tasks.partition_point(|&task| task < limit);
            for (&task, &task_weight) in tasks[..end].iter().zip(&weights[..end]) {
                let task = task as usize;
                if self.shared[task] == 0 {
                    self.touched.push(task);
                }
                self.sums[task] += weight * task_weight;
                self.shared[task] += 1;
            }
        }
        let mut scores = Vec::new();
        let mut best: [Option<Candidate<usize>>; 2] = [None, None];
        for task in self.touched.drain(..) {
            let score = f64::from(std::mem::take(&mut self.sums[task]));
            let shared = std::mem::take(&mut self.shared[task]) as usize;
            if !wanted(task) {
                continue;
            }
            let candidate = Candidate {
                task,
                score,
                shared,
            };
            if score >= floor {
                scores.push(candidate);
            } else if best[1].is_none_or(|b| score > b.score) {
                best[1] = Some(candidate);
                if best[0].is_none_or(|b| score > b.score) {
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

/// The decision for a commit with these candidates. Every candidate counts as a runner-up, but only
/// one sharing [`Settings::min_shared_terms`] is linked or suggested.
pub fn decide<T: Clone>(candidates: &[Candidate<T>], settings: &Settings) -> Decision<T> {
    // The best two in one pass: candidates can be thousands, links and suggestions a few.
    let (mut best, mut second): (Option<&Candidate<T>>, f64) = (None, 0.0);
    for candidate in candidates {
        match best {
            Some(b) if candidate.score <= b.score => second = second.max(candidate.score),
            _ => {
                second = best.map_or(second, |b| b.score);
                best = Some(candidate);
            }
        }
    }
    if let Some(best) = best
        && best.score >= settings.threshold
        && best.score - second >= settings.margin
        && best.shared >= settings.min_shared_terms
    {
        return Decision::Link(best.task.clone(), best.score);
    }
    let mut suggestions: Vec<(T, f64)> = candidates
        .iter()
        .filter(|c| c.score >= settings.suggest && c.shared >= settings.min_shared_terms)
        .map(|c| (c.task.clone(), c.score))
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

    fn candidate(task: &str, score: f64, shared: usize) -> Candidate<&str> {
        Candidate {
            task,
            score,
            shared,
        }
    }

    #[test]
    fn the_best_candidate_links_only_with_a_lead() {
        let settings = Settings::default();
        assert_eq!(
            decide(&[candidate("a", 0.8, 3), candidate("b", 0.2, 2)], &settings),
            Decision::Link("a", 0.8)
        );
        assert_eq!(
            decide(
                &[
                    candidate("a", 0.8, 3),
                    candidate("b", 0.78, 3),
                    candidate("c", 0.01, 1)
                ],
                &settings
            ),
            Decision::Suggest(vec![("a", 0.8), ("b", 0.78)])
        );
        assert_eq!(decide::<&str>(&[], &settings), Decision::Suggest(vec![]));
    }

    #[test]
    fn one_shared_word_neither_links_nor_suggests_but_still_runs_up() {
        let settings = Settings::default();
        assert_eq!(
            decide(&[candidate("a", 0.9, 1), candidate("b", 0.4, 2)], &settings),
            Decision::Suggest(vec![("b", 0.4)]),
            "a leads but shares one word; b is no link, a's score leads it"
        );
        assert_eq!(
            decide(&[candidate("a", 0.9, 2)], &settings),
            Decision::Link("a", 0.9)
        );
    }

    #[test]
    fn attributions_are_not_about_the_work() {
        assert_eq!(
            terms(&commit_text(
                "Grouping splits per node (Jane Doe via jdoe)\n\nFaster. Contributed by Jane Doe."
            )),
            ["group", "split", "per", "node", "faster"]
        );
        assert_eq!(
            task_terms("Expose splits. Patch by Jane Doe", "", &[]),
            ["expose", "split", "expose", "split"]
        );
        // A parenthesis without `via` is content.
        assert_eq!(
            terms(&commit_text("Respect the umask (umask)")),
            ["respect", "umask", "umask"]
        );
    }

    #[test]
    fn cosine_of_shared_terms() {
        let docs = [terms("login page broken"), terms("database migration slow")];
        let corpus = Corpus::new(docs.iter().map(Vec::as_slice));
        let task = corpus.vector(&docs[0]);
        let (score, shared) = task.similarity(&corpus.vector(&terms("repair the login page")));
        assert!(score > 0.5, "{score}");
        let mut shared: Vec<&str> = shared.into_iter().map(|t| corpus.term(t)).collect();
        shared.sort_unstable();
        assert_eq!(shared, ["login", "page"]);
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
        let index = Index::new(&corpus, tasks.iter().map(|t| corpus.vector(t)).collect());
        let mut scorer = index.scorer();
        let query = corpus.vector(&terms("login page"));
        let every = scorer.scores(&query, tasks.len(), |_| true, 0.0);
        let mut floored = scorer.scores(&query, tasks.len(), |_| true, 0.6);
        floored.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut expected = every.clone();
        expected.sort_by(|a, b| b.score.total_cmp(&a.score));
        assert_eq!(every.len(), 3, "the migration shares nothing");
        assert_eq!(
            floored.len(),
            2,
            "the best, and the runner-up below the floor"
        );
        // The two below the floor tie: either is the runner-up, with the same score.
        assert_eq!(floored[0], expected[0]);
        assert_eq!(floored[0].shared, 2, "login, page");
        assert_eq!(floored[1].score, expected[1].score);
        assert_eq!(
            decide(&floored, &Settings::default()),
            decide(&every, &Settings::default())
        );
        // Tasks not alive at the commit's time are no candidates.
        assert!(
            scorer
                .scores(&query, tasks.len(), |i| i == 2, 0.0)
                .is_empty()
        );
        // Nor those past the limit: only the first task is looked at.
        let first = scorer.scores(&query, 1, |_| true, 0.0);
        assert_eq!(first.iter().map(|c| c.task).collect::<Vec<_>>(), [0]);
    }
}
