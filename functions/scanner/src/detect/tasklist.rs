//! Our task format: a directory with `tasklist.md` (or `TASKLIST.md`) is a project named by its
//! front matter (see `docs/tasklist-format.md`); `project-plan.md` front matter may complete it.

use super::{Detector, Found, Tree, join};
use crate::tasklist;

/// Files of project metadata completing a task list's front matter.
const PLAN_FILES: [&str; 2] = ["project-plan.md", "PROJECT-PLAN.md"];

/// The task-list detector.
pub struct TaskListDetector;

impl Detector for TaskListDetector {
    fn kind(&self) -> &'static str {
        "tasklist"
    }

    fn reads(&self, file: &str) -> bool {
        tasklist::FILE_NAMES.contains(&file) || PLAN_FILES.contains(&file)
    }

    fn detect(&self, dir: &str, files: &[&str], tree: &dyn Tree) -> Option<Found> {
        let file = tasklist::FILE_NAMES
            .into_iter()
            .find(|f| files.contains(f))?;
        let path = join(dir, file);
        let list = tasklist::parse(&tree.text(&path));
        let mut found = Found::from_manifest(&path);
        found.problems = list
            .problems
            .iter()
            .map(|p| format!("{path}: {p}"))
            .collect();
        let mut front = list.front_matter.unwrap_or_default();
        if let Some(plan) = PLAN_FILES.into_iter().find(|f| files.contains(f)) {
            let plan_path = join(dir, plan);
            let plan = tasklist::parse(&tree.text(&plan_path));
            found.manifests.push(plan_path);
            let plan_front = plan.front_matter.unwrap_or_default();
            front.name = front.name.or(plan_front.name);
            front.description = front.description.or(plan_front.description);
        }
        found.name = front.name;
        found.description = front.description;
        Some(found)
    }
}
