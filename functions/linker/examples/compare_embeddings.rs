//! Measurement: the transformer against a static table distilled from it (the model2vec approach:
//! the transformer's output per vocabulary entry, a text the mean of its entries), by the linking
//! benchmark's F1 with words and meaning, and by embedding rate on the same texts, in one run.
//! Why the linker runs the transformer: `docs/linking.md`.
//!
//! Usage: `LINKER_MODEL_DIR=$(scripts/install-model) compare_embeddings [FIXTURES_DIR]`

use std::{cell::RefCell, collections::HashMap, path::PathBuf, time::Instant};

use dashboard_linker::{
    evaluate::{evaluate_dir, evaluate_project},
    semantic::{Embed, Model},
    similarity::Settings,
};

fn main() -> anyhow::Result<()> {
    let fixtures = std::env::args().nth(1).map_or_else(
        || PathBuf::from("../shared/fixtures/linking"),
        PathBuf::from,
    );
    let model = Model::from_lookup(&dashboard_shared::config::Env::process())?
        .ok_or_else(|| anyhow::anyhow!("set LINKER_MODEL_DIR"))?;
    let distilling = Instant::now();
    let table = model.distil()?;
    println!(
        "distilling the table: {:.1} s",
        distilling.elapsed().as_secs_f64()
    );

    // The rate on the benchmark's own titles and messages.
    let mut texts = Vec::new();
    for project in ["tez", "avro"] {
        for file in ["issues.jsonl", "commits.jsonl"] {
            let text = std::fs::read_to_string(fixtures.join(project).join(file))?;
            for line in text.lines().filter(|l| !l.is_empty()) {
                let value: serde_json::Value = serde_json::from_str(line)?;
                let field = value.get("title").or_else(|| value.get("message"));
                texts.push(
                    field
                        .and_then(|v| v.as_str())
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
        }
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let embedders: [(&str, &dyn Embed); 2] = [("transformer", &*model), ("static table", &table)];
    for (name, embedder) in embedders {
        let started = Instant::now();
        embedder.embed(&texts)?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{name}: {} texts in {seconds:.2} s, {:.0} texts/s",
            texts.len(),
            texts.len() as f64 / seconds
        );
    }
    // Each embedder's own threshold, chosen on Tez's `message_hard` as the protocol tunes its own
    // (the best F1; ties to the higher precision, then the lower threshold), then everything
    // reported at it: Avro takes no part in the choice.
    let memos = [Memo::new(&*model), Memo::new(&table)];
    let mut chosen = Vec::new();
    for (memo, name) in memos.iter().zip(["transformer", "static table"]) {
        let mut best: Option<(f32, f64, f64)> = None;
        for step in 0..12 {
            let threshold = 0.40 + 0.05 * step as f32;
            let settings = with_threshold(threshold);
            let tez = evaluate_project(&fixtures.join("tez"), &settings, Some(memo))?;
            let hard = tez["message_hard"].hybrid.expect("with an embedder");
            println!(
                "{name}: threshold {threshold:.2} on tez message_hard: P {:.3} R {:.3} F1 {:.3}",
                hard.precision, hard.recall, hard.f1
            );
            // F1 and precision to three places, as reported.
            let round = |x: f64| (x * 1000.0).round();
            let better = best.is_none_or(|(_, f1, precision)| {
                (round(hard.f1), round(hard.precision)) > (round(f1), round(precision))
            });
            if better {
                best = Some((threshold, hard.f1, hard.precision));
            }
        }
        let threshold = best.map_or(0.60, |(t, _, _)| t);
        println!("{name}: chosen {threshold:.2}");
        chosen.push(threshold);
    }
    println!(
        "\n{:<8} {:<20} {:>8} {:>14} {:>14}",
        "PROJECT", "VARIANT", "words", "+transformer", "+static"
    );
    let at = |memo: &Memo<'_>, threshold: f32| {
        evaluate_dir(&fixtures, &with_threshold(threshold), Some(memo))
    };
    let (transformer, distilled) = (at(&memos[0], chosen[0])?, at(&memos[1], chosen[1])?);
    for (project, variants) in &transformer {
        for (variant, e) in variants {
            let own = e.hybrid.expect("evaluated with the model");
            let other = distilled[project][variant]
                .hybrid
                .expect("evaluated with the table");
            println!(
                "{project:<8} {variant:<20} {:>8.3} {:>8.3} P{:.2} {:>8.3} P{:.2}",
                e.service.f1, own.f1, own.precision, other.f1, other.precision
            );
        }
    }
    Ok(())
}

fn with_threshold(link: f32) -> Settings {
    let mut settings = Settings::default();
    settings.semantic.link = link;
    settings
}

/// An embedder that embeds each text once however often it is asked.
struct Memo<'a> {
    inner: &'a dyn Embed,
    cache: RefCell<HashMap<String, Vec<f32>>>,
}

impl<'a> Memo<'a> {
    fn new(inner: &'a dyn Embed) -> Self {
        Self {
            inner,
            cache: RefCell::default(),
        }
    }
}

impl Embed for Memo<'_> {
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let missing: Vec<&str> = {
            let cache = self.cache.borrow();
            texts
                .iter()
                .copied()
                .filter(|t| !cache.contains_key(*t))
                .collect()
        };
        let embedded = self.inner.embed(&missing)?;
        let mut cache = self.cache.borrow_mut();
        for (text, embedding) in missing.iter().zip(embedded) {
            cache.insert((*text).to_owned(), embedding);
        }
        Ok(texts.iter().map(|t| cache[*t].clone()).collect())
    }
}
