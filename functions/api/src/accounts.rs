//! Accounts and memberships as the product creates them — sign-up, a provider's first sign-in,
//! `dashboard user add`, an accepted invitation — so that each path makes the same rows.

use dashboard_shared::{
    AccountTx, Db, Error, TenantId,
    domain::{Email, Role},
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;

/// A person to create.
pub struct NewAccount<'a> {
    /// Their address.
    pub email: &'a Email,
    /// Their name, if known.
    pub display_name: Option<&'a str>,
    /// The PHC string of their password, if they have one.
    pub password_hash: Option<String>,
    /// Whether the address is known to be theirs (an operator made it, or a provider vouched).
    pub email_verified: bool,
}

/// Creates an account; an address already taken is 409.
pub async fn create_account(db: &Db, new: NewAccount<'_>) -> Result<Uuid, Error> {
    let id = Uuid::new_v4();
    let mut tx = db.account(id).await?;
    let display_name = new
        .display_name
        .map(|name| name.trim().chars().take(200).collect::<String>());
    let inserted = sqlx::query(
        "insert into accounts (id, email, display_name, password_hash, email_verified_at)
         values ($1, $2, $3, $4, case when $5 then now() end)",
    )
    .bind(id)
    .bind(new.email.as_str())
    .bind(display_name)
    .bind(new.password_hash)
    .bind(new.email_verified)
    .execute(&mut *tx)
    .await;
    match inserted.map_err(Error::from) {
        Err(Error::Conflict(_)) => {
            return Err(Error::Conflict(
                "an account with this email address exists".into(),
            ));
        }
        other => other?,
    };
    tx.commit().await?;
    Ok(id)
}

/// The account with this address, if any.
pub async fn find_account_by_email(db: &Db, email: &Email) -> Result<Option<Uuid>, Error> {
    let mut lookup = db.without_tenant().await?;
    Ok(
        sqlx::query_scalar("select account_id from lookup.account_for_sign_in($1)")
            .bind(email.as_str())
            .fetch_optional(&mut *lookup)
            .await?,
    )
}

/// Makes `account` a member of `tenant` with `role`, audited as done by `actor` (`None`: the
/// operator, from the command line). Nothing happens when they already have that role; another
/// role is a conflict (roles change through the API, under the owner rules).
pub async fn add_member(
    db: &Db,
    tenant: TenantId,
    account: Uuid,
    role: Role,
    actor: Option<Uuid>,
) -> Result<(), Error> {
    let mut tx = db.member(tenant, account).await?;
    let existing: Option<String> = sqlx::query_scalar(
        "insert into memberships (account_id, role) values ($1, $2)
         on conflict (tenant_id, account_id) do update set role = memberships.role
         returning case when xmax = 0 then null else role end",
    )
    .bind(account)
    .bind(role.as_str())
    .fetch_one(&mut *tx)
    .await?;
    match existing {
        Some(current) if current == role.as_str() => return Ok(()),
        Some(current) => {
            return Err(Error::Conflict(format!(
                "already {current} of this organization: roles change through the API \
                 (PATCH /api/v2/orgs/{{org}}/members/{{account_id}}), under the owner rules"
            )));
        }
        None => {}
    }
    audit::record(
        &mut tx,
        audit::Event {
            actor,
            action: "member.added",
            target_type: "member",
            target_id: account.to_string(),
            details: json!({ "role": role.as_str() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes every personal API token the account of `tx` created, in every organization it belongs
/// to, inside `tx` (the tenant is set for each and cleared afterwards): after a password reset,
/// whoever held the account may have minted some. Returns how many were revoked.
pub async fn revoke_api_tokens_everywhere(tx: &mut AccountTx) -> Result<u64, Error> {
    let account = tx.account_id();
    let mut revoked = 0;
    for tenant in organizations_of(tx).await? {
        tx.enter_tenant(tenant).await?;
        revoked += sqlx::query(
            "update api_tokens set revoked_at = now() where created_by = $1 and revoked_at is null",
        )
        .bind(account)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    tx.leave_tenant().await?;
    Ok(revoked)
}

/// The organizations the account of `tx` belongs to.
pub async fn organizations_of(tx: &mut AccountTx) -> Result<Vec<TenantId>, Error> {
    let account = tx.account_id();
    let tenants: Vec<Uuid> = sqlx::query_scalar("select tenant_id from lookup.memberships_of($1)")
        .bind(account)
        .fetch_all(&mut **tx)
        .await?;
    Ok(tenants.into_iter().map(TenantId::from_uuid).collect())
}
