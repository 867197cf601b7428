//! Every `.tf` file under `terraform/`, parsed, with the few look-ups the checks need: resources of
//! a type, module calls, nested blocks by path, attributes as text.

use std::path::{Path, PathBuf};

use hcl::{Block, Body, Expression};

/// One parsed `.tf` file.
pub struct TfFile {
    /// Relative to `terraform/`.
    pub path: PathBuf,
    /// Its body.
    pub body: Body,
}

impl TfFile {
    /// The module directory it belongs to (`modules/service`, `environments/prod`).
    pub fn module(&self) -> &Path {
        self.path.parent().unwrap()
    }
}

/// Every `.tf` file (symbolic links to another one are read once, as their target).
pub fn load() -> Vec<TfFile> {
    let base = super::root().join("terraform");
    let mut files = Vec::new();
    walk(&base, &base, &mut files);
    assert!(
        files.len() > 20,
        "expected the estate's files, found {}",
        files.len()
    );
    files
}

fn walk(base: &Path, dir: &Path, out: &mut Vec<TfFile>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_symlink() || name == ".terraform" {
            continue;
        }
        if path.is_dir() {
            walk(base, &path, out);
        } else if name.ends_with(".tf") {
            let text = std::fs::read_to_string(&path).unwrap();
            let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push(TfFile {
                path: path.strip_prefix(base).unwrap().to_owned(),
                body,
            });
        }
    }
}

/// A top-level block with its file.
pub struct Found<'a> {
    /// The file.
    pub file: &'a TfFile,
    /// The block.
    pub block: &'a Block,
}

impl<'a> Found<'a> {
    /// `type.name` of a resource, or `module.name`.
    pub fn address(&self) -> String {
        let labels: Vec<&str> = self.block.labels().iter().map(|l| l.as_str()).collect();
        format!("{} {}", self.file.path.display(), labels.join("."))
    }

    /// The block's name label (the last one).
    pub fn name(&self) -> &'a str {
        self.block.labels().last().unwrap().as_str()
    }
}

/// Every `resource "kind" "…"` block.
pub fn resources<'a>(files: &'a [TfFile], kind: &str) -> Vec<Found<'a>> {
    top_level(files, "resource", Some(kind))
}

/// Every `variable`, `module`, … block.
pub fn top_level<'a>(files: &'a [TfFile], identifier: &str, kind: Option<&str>) -> Vec<Found<'a>> {
    files
        .iter()
        .flat_map(|file| {
            file.body
                .blocks()
                .filter(move |b| b.identifier() == identifier)
                .filter(move |b| kind.is_none_or(|k| b.labels()[0].as_str() == k))
                .map(move |block| Found { file, block })
        })
        .collect()
}

/// Every module call whose source ends with `/name`.
pub fn module_calls<'a>(files: &'a [TfFile], name: &str) -> Vec<Found<'a>> {
    top_level(files, "module", None)
        .into_iter()
        .filter(|m| {
            attr(m.block.body(), "source")
                .is_some_and(|s| text(s).trim_matches('"').ends_with(&format!("/{name}")))
        })
        .collect()
}

/// The first nested block along `path` (`["template", "scaling"]`).
pub fn block<'a>(body: &'a Body, path: &[&str]) -> Option<&'a Body> {
    path.iter().try_fold(body, |body, name| {
        body.blocks()
            .find(|b| b.identifier() == *name)
            .map(Block::body)
    })
}

/// Every nested block named `name`, at any depth.
pub fn blocks_named<'a>(body: &'a Body, name: &str, out: &mut Vec<&'a Body>) {
    for b in body.blocks() {
        if b.identifier() == name {
            out.push(b.body());
        }
        blocks_named(b.body(), name, out);
    }
}

/// An attribute's expression.
pub fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

/// An attribute at `path` (blocks, then the attribute), as text; `None` when absent.
pub fn attr_at(body: &Body, path: &[&str]) -> Option<String> {
    let (key, blocks) = path.split_last().unwrap();
    block(body, blocks).and_then(|b| attr(b, key)).map(text)
}

/// An expression as HCL text (`var.public`, `"ENTERPRISE"`, `0`).
pub fn text(expr: &Expression) -> String {
    expr.to_string()
}

/// A whole block as HCL text, for substring checks over queries and filters.
pub fn block_text(block: &Block) -> String {
    hcl::format::to_string(block).unwrap()
}

/// Every attribute (at any depth) whose key is `key`.
pub fn attrs_named<'a>(body: &'a Body, key: &str, out: &mut Vec<&'a Expression>) {
    out.extend(
        body.attributes()
            .filter(|a| a.key() == key)
            .map(|a| a.expr()),
    );
    for b in body.blocks() {
        attrs_named(b.body(), key, out);
    }
}
