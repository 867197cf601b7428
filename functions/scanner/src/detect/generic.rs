//! The fallback: a directory with a `Makefile` is a weak `generic` project, and so is the root when
//! it has a README; either counts only where no project of any ecosystem holds the directory or an
//! ancestor.

use super::{Detector, Found, Tree, join};

/// The fallback detector.
pub struct Generic;

const MAKEFILES: [&str; 3] = ["Makefile", "GNUmakefile", "makefile"];

impl Detector for Generic {
    fn kind(&self) -> &'static str {
        "generic"
    }

    fn reads(&self, file: &str) -> bool {
        MAKEFILES.contains(&file) || is_readme(file)
    }

    fn detect(&self, dir: &str, files: &[&str], _tree: &dyn Tree) -> Option<Found> {
        let mut manifests: Vec<String> = files
            .iter()
            .filter(|f| MAKEFILES.contains(f) || (dir.is_empty() && is_readme(f)))
            .map(|f| join(dir, f))
            .collect();
        manifests.sort();
        (!manifests.is_empty()).then(|| Found {
            manifests,
            weak: true,
            ..Found::default()
        })
    }
}

fn is_readme(file: &str) -> bool {
    file.len() >= 6 && file[..6].eq_ignore_ascii_case("readme")
}
