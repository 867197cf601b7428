//! The overview's query, on the caller's tenant transaction.

use dashboard_shared::{
    TenantTx,
    domain::{LinkState, TaskStatus},
};

use super::model::Totals;

/// The organization's totals.
pub async fn count_totals(tx: &mut TenantTx) -> Result<Totals, sqlx::Error> {
    sqlx::query_as!(
        Totals,
        r#"select
             (select count(*) from repositories where not archived) as "repositories!",
             (select count(*) from projects where removed_at is null) as "projects!",
             (select count(*) from tasks where removed_at is null) as "tasks!",
             (select count(*) from tasks where removed_at is null and status = $1) as "tasks_done!",
             (select count(*) from commits) as "commits!",
             (select count(*) from commit_task_links where state = $2) as "links!",
             (select count(*) from commit_task_links where state = $3) as "suggestions!""#,
        TaskStatus::Done as TaskStatus,
        LinkState::Active as LinkState,
        LinkState::Suggested as LinkState,
    )
    .fetch_one(&mut **tx)
    .await
}
