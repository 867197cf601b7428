//! Linking by meaning: sentence embeddings of commit messages and task titles, so that a commit and
//! a task that say the same thing in different words can still be linked.
//!
//! The model is all-MiniLM-L6-v2 (Apache-2.0; a 6-layer BERT, 384 dimensions), run on the CPU by
//! `candle` inside the linker's own process: no external service, nothing over the network. Its
//! files (`config.json`, `tokenizer.json`, `model.safetensors`) come from the directory named by
//! `LINKER_MODEL_DIR`; without it the linker links by references and shared words only.
//!
//! Each text is embedded once (mean of the last layer over its tokens, L2-normalised), stored with
//! its row ([`to_bytes`]) and reused by every relink; two texts' similarity is the dot product of
//! their embeddings (their cosine). How it enters the decision: [`Semantic`].

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use dashboard_shared::config::Env;
use tokenizers::{PaddingParams, Tokenizer, TruncationParams};

/// The environment variable naming the model's directory.
pub const MODEL_DIR_VAR: &str = "LINKER_MODEL_DIR";

/// Dimensions of one embedding.
pub const DIMENSIONS: usize = 384;

/// Tokens read of one text (the model's own limit; a commit message's first 256 word pieces say
/// what it is about).
const MAX_TOKENS: usize = 256;

/// Bytes of a text read at most: 256 word pieces are rarely more than 2 KiB, and a hostile
/// megabyte-long message is not tokenized whole to keep its first 256.
const MAX_TEXT_BYTES: usize = 8 * 1024;

/// The start of `text` that is read: at most [`MAX_TEXT_BYTES`], cut at a character boundary.
fn head(text: &str) -> &str {
    let mut end = text.len().min(MAX_TEXT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Tokens (padding included) of one forward pass: bounds the activations' memory whatever the texts.
const BATCH_TOKENS: usize = 4_096;

/// How the semantic score enters the decision. Chosen on Tez's `message_hard` and reported on Avro
/// (`docs/linking.md`): a commit the shared words did not link is linked to the task it is closest
/// to in meaning when their cosine reaches `link`; tasks within `suggest` are suggested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Semantic {
    /// The lowest cosine that links a commit the words left unlinked.
    pub link: f32,
    /// The lowest cosine that is suggested to a person.
    pub suggest: f32,
}

impl Default for Semantic {
    fn default() -> Self {
        Self {
            link: 0.60,
            suggest: 0.45,
        }
    }
}

/// What turns texts into embeddings: the transformer ([`Model`]), or the static table distilled from
/// it ([`TokenTable`], measured against it by `examples/compare_embeddings.rs`).
pub trait Embed {
    /// The embeddings of `texts`, in order: each L2-normalised (an empty text's is all zeros).
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>>;
}

/// The loaded model: tokenizer and transformer.
pub struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Model(all-MiniLM-L6-v2)")
    }
}

impl Model {
    /// The model in `dir` (`config.json`, `tokenizer.json`, `model.safetensors`).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))
        };
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .with_context(|| format!("{}: not a BERT config.json", dir.display()))?;
        anyhow::ensure!(
            config.hidden_size == DIMENSIONS,
            "{}: a model of {} dimensions, not all-MiniLM-L6-v2's {DIMENSIONS}",
            dir.display(),
            config.hidden_size
        );
        let mut tokenizer = Tokenizer::from_bytes(read("tokenizer.json")?)
            .map_err(|error| anyhow::anyhow!("{}: tokenizer.json: {error}", dir.display()))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|error| anyhow::anyhow!("tokenizer: {error}"))?;
        tokenizer.with_padding(Some(PaddingParams::default()));
        let device = Device::Cpu;
        let weights =
            VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DType::F32, &device)
                .with_context(|| format!("{}: model.safetensors", dir.display()))?;
        let bert = BertModel::load(weights, &config)
            .with_context(|| format!("{}: not a BERT model", dir.display()))?;
        Ok(Self {
            bert,
            tokenizer,
            device,
        })
    }

    /// The model named by `LINKER_MODEL_DIR`, if set; says at start-up which way the linker links.
    pub fn from_lookup(env: &Env) -> anyhow::Result<Option<std::sync::Arc<Self>>> {
        let Some(dir) = env.get(MODEL_DIR_VAR).map(PathBuf::from) else {
            tracing::warn!(
                "{MODEL_DIR_VAR} is not set: linking by references and shared words only, not by meaning"
            );
            return Ok(None);
        };
        let model =
            Self::load(&dir).with_context(|| format!("{MODEL_DIR_VAR}={}", dir.display()))?;
        tracing::info!(model.dir = %dir.display(), "linking by meaning too");
        Ok(Some(std::sync::Arc::new(model)))
    }

    /// The embeddings of `texts`, in order: each L2-normalised (an empty text's is all zeros).
    pub fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        Embed::embed(self, texts)
    }

    /// The model2vec approach: the transformer's output for each vocabulary entry alone
    /// (`[CLS] entry [SEP]`, mean-pooled), one row per entry; a text is then the mean of its
    /// entries' rows, without running the transformer.
    pub fn distil(&self) -> anyhow::Result<TokenTable> {
        let special = |token: &str| {
            self.tokenizer
                .token_to_id(token)
                .with_context(|| format!("the vocabulary has no {token}"))
        };
        let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
        let size = self.tokenizer.get_vocab_size(true);
        let mut rows = Vec::with_capacity(size * DIMENSIONS);
        let entries: Vec<(usize, Vec<u32>)> = (0..size as u32)
            .map(|id| (id as usize, vec![cls, id, sep]))
            .collect();
        for batch in entries.chunks(BATCH_TOKENS / 3) {
            rows.extend(self.forward(batch)?.into_iter().flatten());
        }
        let mut tokenizer = self.tokenizer.clone();
        tokenizer
            .with_truncation(None)
            .map_err(|error| anyhow::anyhow!("tokenizer: {error}"))?;
        Ok(TokenTable { tokenizer, rows })
    }

    /// One padded batch through the transformer, mean-pooled over the real tokens.
    fn forward(&self, batch: &[(usize, Vec<u32>)]) -> anyhow::Result<Vec<Vec<f32>>> {
        let width = batch
            .iter()
            .map(|(_, ids)| ids.len())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut ids = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for (_, tokens) in batch {
            ids.extend(tokens.iter().copied());
            ids.extend(std::iter::repeat_n(0, width - tokens.len()));
            mask.extend(std::iter::repeat_n(1u32, tokens.len()));
            mask.extend(std::iter::repeat_n(0u32, width - tokens.len()));
        }
        let shape = (batch.len(), width);
        let ids = Tensor::from_vec(ids, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let types = ids.zeros_like()?;
        let hidden = self.bert.forward(&ids, &types, Some(&mask))?;
        // Mean over the real tokens, then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        Ok(mean.broadcast_div(&norms)?.to_vec2::<f32>()?)
    }
}

impl Embed for Model {
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        let mut encodings = self
            .tokenizer
            .encode_batch(texts.iter().map(|t| head(t)).collect(), true)
            .map_err(|error| anyhow::anyhow!("tokenizer: {error}"))?
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let real = e.get_attention_mask().iter().filter(|m| **m == 1).count();
                (i, e.get_ids()[..real].to_vec())
            })
            .collect::<Vec<_>>();
        // Texts of similar length together: less padding.
        encodings.sort_by_key(|(_, ids)| ids.len());
        let mut embeddings = vec![Vec::new(); texts.len()];
        let mut start = 0;
        while start < encodings.len() {
            let mut end = start + 1;
            while end < encodings.len()
                && encodings[end].1.len() * (end + 1 - start) <= BATCH_TOKENS
            {
                end += 1;
            }
            let batch = &encodings[start..end];
            for ((i, _), embedding) in batch.iter().zip(self.forward(batch)?) {
                embeddings[*i] = embedding;
            }
            start = end;
        }
        Ok(embeddings)
    }
}

/// A static embedding per vocabulary entry, distilled from the transformer ([`Model::distil`]).
pub struct TokenTable {
    tokenizer: Tokenizer,
    rows: Vec<f32>,
}

impl Embed for TokenTable {
    fn embed(&self, texts: &[&str]) -> anyhow::Result<Vec<Vec<f32>>> {
        texts
            .iter()
            .map(|text| {
                let encoding = self
                    .tokenizer
                    .encode(head(text), false)
                    .map_err(|error| anyhow::anyhow!("tokenizer: {error}"))?;
                let mut sum = vec![0.0f32; DIMENSIONS];
                for id in encoding.get_ids().iter().take(MAX_TOKENS) {
                    let row = &self.rows[*id as usize * DIMENSIONS..][..DIMENSIONS];
                    sum.iter_mut().zip(row).for_each(|(s, r)| *s += r);
                }
                let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    sum.iter_mut().for_each(|x| *x /= norm);
                }
                Ok(sum)
            })
            .collect()
    }
}

/// Embeddings as the rows of one matrix (a missing one as zeros), to compare many at once.
pub struct Matrix(Tensor);

impl Matrix {
    /// The matrix of `rows`.
    pub fn new(rows: impl Iterator<Item = Option<Vec<f32>>>) -> Self {
        let mut flat = Vec::new();
        for row in rows {
            match row {
                Some(embedding) => flat.extend(embedding),
                None => flat.extend([0.0; DIMENSIONS]),
            }
        }
        let count = flat.len() / DIMENSIONS;
        Self(Tensor::from_vec(flat, (count, DIMENSIONS), &Device::Cpu).expect("sized to fit"))
    }

    /// The cosines of each of `queries` with the first `limit` rows, query by query (one matrix
    /// product, on every core).
    pub fn cosines(&self, queries: &[&[f32]], limit: usize) -> Vec<f32> {
        let flat: Vec<f32> = queries.iter().flat_map(|q| q.iter().copied()).collect();
        let product = || -> candle_core::Result<Vec<f32>> {
            let queries = Tensor::from_vec(flat, (queries.len(), DIMENSIONS), &Device::Cpu)?;
            let rows = self.0.narrow(0, 0, limit.min(self.0.dim(0)?))?;
            queries.matmul(&rows.t()?)?.flatten_all()?.to_vec1()
        };
        product().expect("the shapes agree")
    }
}

/// The cosine of two embeddings (both unit length).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// An embedding as stored: little-endian f32s.
pub fn to_bytes(embedding: &[f32]) -> Vec<u8> {
    embedding.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A stored embedding, if it has this model's dimensions.
pub fn from_bytes(bytes: &[u8]) -> Option<Vec<f32>> {
    (bytes.len() == DIMENSIONS * 4).then(|| {
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    })
}

/// The candidate closest in meaning among `scored` (candidate, cosine), if it reaches `threshold`.
pub fn closest<T>(scored: impl IntoIterator<Item = (T, f32)>, threshold: f32) -> Option<(T, f32)> {
    scored
        .into_iter()
        .filter(|(_, cos)| *cos >= threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_head_of_a_long_text_is_read() {
        let long = "é".repeat(MAX_TEXT_BYTES);
        assert_eq!(head(&long).len(), MAX_TEXT_BYTES);
        let odd = format!("a{long}");
        assert_eq!(head(&odd).len(), MAX_TEXT_BYTES - 1);
        assert_eq!(head("short"), "short");
    }

    #[test]
    fn embeddings_survive_storage() {
        let embedding: Vec<f32> = (0..DIMENSIONS).map(|i| i as f32 / 1000.0 - 0.1).collect();
        assert_eq!(from_bytes(&to_bytes(&embedding)), Some(embedding));
        assert_eq!(from_bytes(&[0; 12]), None);
    }

    #[test]
    fn the_closest_candidate_above_the_threshold_wins() {
        assert_eq!(
            closest([("a", 0.5), ("b", 0.7), ("c", 0.65)], 0.6),
            Some(("b", 0.7))
        );
        assert_eq!(closest([("a", 0.5)], 0.6), None);
    }
}
