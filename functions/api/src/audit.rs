//! The audit log of an organization: security events (sign-ins to it, role changes, invitations,
//! tokens, MFA policy, deletion) written in the transaction of the change they record, readable by
//! owners and admins.

use dashboard_shared::{AccountTx, Error, TenantTx};
use serde_json::Value;
use uuid::Uuid;

/// One event to record.
pub struct Event<'a> {
    /// Who acted (none for the system).
    pub actor: Option<Uuid>,
    /// What happened, dotted: `member.role_changed`, `invitation.created`, `token.revoked`, ….
    pub action: &'a str,
    /// The kind of thing it happened to: `member`, `invitation`, `api_token`, `organization`.
    pub target_type: &'a str,
    /// Its id.
    pub target_id: String,
    /// Anything else worth keeping (never a secret).
    pub details: Value,
}

/// Records `event` in the organization of `tx`, inside its transaction.
pub async fn record(tx: &mut TenantTx, event: Event<'_>) -> Result<(), Error> {
    sqlx::query(
        "insert into audit_log (actor_account_id, action, target_type, target_id, details)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(event.actor)
    .bind(event.action)
    .bind(event.target_type)
    .bind(event.target_id)
    .bind(event.details)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records `action` about the account of `tx` itself (a sign-in, a failed sign-in, an MFA change) in
/// the audit log of every organization it belongs to, inside `tx`: the tenant is set for each
/// insert and cleared afterwards, so the transaction ends as it began, with no tenant.
pub async fn record_for_account(
    tx: &mut AccountTx,
    action: &str,
    details: Value,
) -> Result<(), Error> {
    let account = tx.account_id();
    for tenant in crate::accounts::organizations_of(tx).await? {
        tx.enter_tenant(tenant).await?;
        sqlx::query(
            "insert into audit_log (actor_account_id, action, target_type, target_id, details)
             values ($1, $2, 'account', $1::text, $3)",
        )
        .bind(account)
        .bind(action)
        .bind(&details)
        .execute(&mut **tx)
        .await?;
    }
    tx.leave_tenant().await?;
    Ok(())
}
