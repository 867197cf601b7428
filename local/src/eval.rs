//! `dashboard eval-linker DIR [--json]`: the linking benchmark's protocol over every project folder
//! in `DIR` (see `dashboard_linker::evaluate`): precision, recall, F1 and AUC per project and message
//! variant, with the service's own decision and default settings, and the protocol's fold-tuned
//! figure beside it; with `LINKER_MODEL_DIR`, the hybrid decision (words and meaning) beside both.

use crate::output::outln;
use std::path::PathBuf;

use dashboard_linker::{
    evaluate::evaluate_dir,
    semantic::{Embed, Model},
    similarity::Settings,
};
use serde_json::json;

/// Options of `dashboard eval-linker`.
#[derive(clap::Args)]
pub struct Args {
    /// A directory of project folders, each with issues.jsonl, commits.jsonl and pairs.jsonl.
    dir: PathBuf,
    /// Print `{project: {variant: {precision, recall, f1, auc, fold_tuned}}}`.
    #[arg(long)]
    json: bool,
}

/// Evaluates and prints.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let model = Model::from_lookup(&dashboard_shared::config::Env::process())?;
    let results = evaluate_dir(
        &args.dir,
        &Settings::default(),
        model.as_deref().map(|m| m as &dyn Embed),
    )?;
    if args.json {
        let output: serde_json::Map<String, serde_json::Value> = results
            .iter()
            .map(|(project, variants)| {
                let variants: serde_json::Map<String, serde_json::Value> = variants
                    .iter()
                    .map(|(variant, e)| {
                        let s = e.service;
                        let t = e.fold_tuned;
                        let mut value = json!({
                            "precision": s.precision, "recall": s.recall, "f1": s.f1, "auc": s.auc,
                            "fold_tuned": { "precision": t.precision, "recall": t.recall, "f1": t.f1 },
                        });
                        if let Some(h) = e.hybrid {
                            value["hybrid"] = json!({
                                "precision": h.precision, "recall": h.recall, "f1": h.f1, "auc": h.auc,
                            });
                        }
                        ((*variant).to_owned(), value)
                    })
                    .collect();
                (project.clone(), variants.into())
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&output)?)?;
        return Ok(());
    }
    outln!(
        "{:<12} {:<18} {:<14} {:>6} {:>6} {:>6} {:>6}   fold-tuned: {:>6} {:>6} {:>6}",
        "PROJECT",
        "VARIANT",
        "DECISION",
        "P",
        "R",
        "F1",
        "AUC",
        "P",
        "R",
        "F1"
    )?;
    for (project, variants) in &results {
        for (variant, e) in variants {
            let (s, t) = (e.service, e.fold_tuned);
            outln!(
                "{project:<12} {variant:<18} {:<14} {:>6.3} {:>6.3} {:>6.3} {:>6.3}               {:>6.3} {:>6.3} {:>6.3}",
                "words",
                s.precision,
                s.recall,
                s.f1,
                s.auc,
                t.precision,
                t.recall,
                t.f1
            )?;
            if let Some(h) = e.hybrid {
                outln!(
                    "{project:<12} {variant:<18} {:<14} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
                    "words+meaning",
                    h.precision,
                    h.recall,
                    h.f1,
                    h.auc,
                )?;
            }
        }
    }
    Ok(())
}
