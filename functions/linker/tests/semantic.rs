//! The sentence-embedding model as the linker runs it (`LINKER_MODEL_DIR`, installed by
//! `scripts/test`): the same similarities as the model's reference implementation, and batches that
//! change nothing.

use std::path::PathBuf;

use dashboard_linker::semantic::{DIMENSIONS, MODEL_DIR_VAR, Model, cosine};

fn model() -> Model {
    let dir = std::env::var_os(MODEL_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{MODEL_DIR_VAR} must name the all-MiniLM-L6-v2 model (scripts/test installs it)"
            )
        });
    Model::load(&dir).expect("the model loads")
}

/// sentence-transformers' own example for this model (sbert.net, "Quickstart"): `model.similarity`
/// of these three sentences is 0.6660, 0.1046 and 0.1411.
#[test]
fn similarities_match_the_reference_implementation() {
    let model = model();
    let e = model
        .embed(&[
            "The weather is lovely today.",
            "It's so sunny outside!",
            "He drove to the stadium.",
        ])
        .unwrap();
    for embedding in &e {
        assert_eq!(embedding.len(), DIMENSIONS);
        assert!((cosine(embedding, embedding) - 1.0).abs() < 1e-5);
    }
    let close = |a: f32, b: f32| (a - b).abs() < 2e-3;
    assert!(
        close(cosine(&e[0], &e[1]), 0.6660),
        "{}",
        cosine(&e[0], &e[1])
    );
    assert!(
        close(cosine(&e[0], &e[2]), 0.1046),
        "{}",
        cosine(&e[0], &e[2])
    );
    assert!(
        close(cosine(&e[1], &e[2]), 0.1411),
        "{}",
        cosine(&e[1], &e[2])
    );
}

#[test]
fn a_text_embeds_the_same_alone_and_in_a_batch() {
    let model = model();
    let short = "Fix the crash when the configuration file is empty";
    let long = "Rewrite the scheduler so that tasks waiting on a lock are woken in the order they \
                asked, with a fairness bound, metrics for the queue length, and documentation";
    let alone = model.embed(&[short]).unwrap();
    let batch = model.embed(&[long, short, ""]).unwrap();
    assert!(cosine(&alone[0], &batch[1]) > 0.9999);
    assert_eq!(batch.len(), 3);
}

#[test]
fn meaning_ranks_what_words_cannot() {
    let model = model();
    let e = model
        .embed(&[
            "Application crashes on startup when the settings file is missing",
            "Handle absent configuration gracefully instead of panicking at launch",
            "Add a dark colour theme to the user interface",
        ])
        .unwrap();
    assert!(cosine(&e[0], &e[1]) > cosine(&e[0], &e[2]) + 0.2);
}
