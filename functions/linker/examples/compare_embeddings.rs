//! Measurement: the transformer against a static table distilled from it (the model2vec approach:
//! the transformer's output per vocabulary entry, a text the mean of its entries), by the linking
//! benchmark's F1 with words and meaning, and by embedding rate on the same texts, in one run.
//! Why the linker runs the transformer: `docs/linking.md`.
//!
//! Usage: `LINKER_MODEL_DIR=$(scripts/install-model) compare_embeddings [FIXTURES_DIR]`

use std::{path::PathBuf, time::Instant};

use dashboard_linker::{
    evaluate::evaluate_dir,
    semantic::{Embed, Model},
    similarity::Settings,
};

fn main() -> anyhow::Result<()> {
    let fixtures = std::env::args().nth(1).map_or_else(
        || PathBuf::from("../shared/fixtures/linking"),
        PathBuf::from,
    );
    let model = Model::from_env()?.ok_or_else(|| anyhow::anyhow!("set LINKER_MODEL_DIR"))?;
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
    println!(
        "\n{:<8} {:<20} {:>10} {:>10} {:>10}",
        "PROJECT", "VARIANT", "words", "+transf.", "+static"
    );
    let settings = Settings::default();
    let words_and = |embedder: &dyn Embed| evaluate_dir(&fixtures, &settings, Some(embedder));
    let (transformer, distilled) = (words_and(&*model)?, words_and(&table)?);
    for (project, variants) in &transformer {
        for (variant, e) in variants {
            let other = distilled[project][variant]
                .hybrid
                .expect("evaluated with a table");
            let own = e.hybrid.expect("evaluated with the model");
            println!(
                "{project:<8} {variant:<20} {:>10.3} {:>10.3} {:>10.3}   P {:.3} / {:.3}",
                e.service.f1, own.f1, other.f1, own.precision, other.precision
            );
        }
    }
    Ok(())
}
