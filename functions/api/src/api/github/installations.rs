//! The organization's GitHub App installations once connected: the list, whether one follows its
//! selection on GitHub, the repositories it reaches, the ones chosen, and disconnecting it.

use axum::{
    Json,
    extract::{OriginalUri, Path, Query, State},
    http::StatusCode,
};
use dashboard_shared::Error;

use super::{
    client::{self, GitHubRepository},
    db,
    model::{
        AvailableRepository, ConnectedRepository, FullName, Installation, InstallationChange,
        RepositoryChoice,
    },
};
use crate::{
    AppState,
    api::{
        Problem,
        pagination::{Page, PageQuery},
    },
    audit,
    auth::context::Member,
};

/// The most repositories one choice may name.
const MAX_CHOICE: usize = 1000;

/// The organization's connected installations.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/github/installations",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug"), PageQuery),
    responses(
        (status = 200, description = "A page of installations by id; the next in `Link: rel=\"next\"`", body = [Installation]),
        (status = 400, description = "A malformed cursor", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn list(
    mut member: Member,
    OriginalUri(uri): OriginalUri,
    Query(paging): Query<PageQuery>,
) -> Result<Page<Installation>, Error> {
    let page = paging.parse::<i64>()?;
    let rows = db::list_installations(&mut member.tx, &page).await?;
    Ok(Page::new(rows, &page, uri, |i| i.installation_id))
}

/// Follows the installation's selection on GitHub, or stops following it. Turning it on connects
/// every repository the installation reaches now and disconnects the others it had.
#[utoipa::path(
    patch,
    path = "/api/v2/orgs/{org}/github/installations/{installation_id}",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug"), ("installation_id" = i64, Path, description = "GitHub's id of the installation")),
    request_body = InstallationChange,
    responses(
        (status = 200, body = Installation),
        (status = 400, description = "A body that is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such installation in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Over the plan's repository limit (the detail names it), or no GitHub App", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`follow_selection` missing or not a boolean, or another field", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "GitHub failed; the detail says how", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn update(
    State(state): State<AppState>,
    mut member: Member,
    Path((_org, installation_id)): Path<(String, i64)>,
    Json(change): Json<InstallationChange>,
) -> Result<Json<Installation>, Error> {
    if !db::update_follow_selection(&mut member.tx, installation_id, change.follow_selection)
        .await?
    {
        return Err(Error::NotFound);
    }
    if change.follow_selection {
        let github = &state.config.github;
        let reachable =
            client::installation_repositories(github, github.app()?, installation_id).await?;
        db::replace_installation_repositories(&mut member.tx, installation_id, &reachable).await?;
    }
    let installation = db::find_installation(&mut member.tx, installation_id)
        .await?
        .ok_or(Error::NotFound)?;
    member.tx.commit().await?;
    Ok(Json(installation))
}

/// The repositories the installation reaches on GitHub (at most 1,000), each with its id here when
/// connected through it.
#[utoipa::path(
    get,
    path = "/api/v2/orgs/{org}/github/installations/{installation_id}/repositories",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug"), ("installation_id" = i64, Path, description = "GitHub's id of the installation")),
    responses(
        (status = 200, description = "By name, as GitHub lists them", body = [AvailableRepository]),
        (status = 404, description = "No such installation in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This deployment has no GitHub App", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "GitHub failed; the detail says how", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn available(
    State(state): State<AppState>,
    mut member: Member,
    Path((_org, installation_id)): Path<(String, i64)>,
) -> Result<Json<Vec<AvailableRepository>>, Error> {
    db::find_installation(&mut member.tx, installation_id)
        .await?
        .ok_or(Error::NotFound)?;
    let connected = db::list_installation_repositories(&mut member.tx, installation_id).await?;
    let github = &state.config.github;
    let mut reachable =
        client::installation_repositories(github, github.app()?, installation_id).await?;
    reachable.sort_by_key(|r| r.full_name.to_lowercase());
    Ok(Json(
        reachable
            .into_iter()
            .map(|r| AvailableRepository {
                repository_id: connected
                    .iter()
                    .find(|c| c.github_id == Some(r.id))
                    .map(|c| c.id),
                github_id: r.id,
                full_name: r.full_name,
                private: r.private,
                archived: r.archived,
            })
            .collect(),
    ))
}

/// Chooses the repositories connected through the installation: the ones named are connected
/// (and scanned), the installation's others disconnected.
#[utoipa::path(
    put,
    path = "/api/v2/orgs/{org}/github/installations/{installation_id}/repositories",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug"), ("installation_id" = i64, Path, description = "GitHub's id of the installation")),
    request_body = RepositoryChoice,
    responses(
        (status = 200, description = "The installation's connected repositories", body = [ConnectedRepository]),
        (status = 400, description = "A body that is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such installation in this organization", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The installation follows its selection on GitHub; over the plan's repository limit (named); no GitHub App", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`repositories`: a name that is not owner/name or that the installation does not reach, or too many", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "GitHub failed; the detail says how", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn choose(
    State(state): State<AppState>,
    mut member: Member,
    Path((_org, installation_id)): Path<(String, i64)>,
    Json(choice): Json<RepositoryChoice>,
) -> Result<Json<Vec<ConnectedRepository>>, Error> {
    if choice.repositories.len() > MAX_CHOICE {
        return Err(Error::Unprocessable(format!(
            "repositories: at most {MAX_CHOICE}, not {}",
            choice.repositories.len()
        )));
    }
    let names = choice
        .repositories
        .iter()
        .map(|name| FullName::parse("repositories", name))
        .collect::<Result<Vec<_>, _>>()?;
    let installation = db::find_installation(&mut member.tx, installation_id)
        .await?
        .ok_or(Error::NotFound)?;
    if installation.follow_selection {
        return Err(Error::Conflict(
            "the installation follows its selection on GitHub: choose the repositories there, or \
             set follow_selection to false first"
                .into(),
        ));
    }
    let github = &state.config.github;
    let reachable =
        client::installation_repositories(github, github.app()?, installation_id).await?;
    let wanted = pick(&reachable, &names, installation_id)?;
    let connected =
        db::replace_installation_repositories(&mut member.tx, installation_id, &wanted).await?;
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "github.repositories_chosen",
            target_type: "github_installation",
            target_id: installation_id.to_string(),
            details: serde_json::json!({ "repositories": connected.len() }),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(Json(connected))
}

/// The repositories of `reachable` that `names` name (GitHub's names ignore case), each once; a
/// name the installation does not reach is the caller's mistake.
fn pick(
    reachable: &[GitHubRepository],
    names: &[FullName],
    installation_id: i64,
) -> Result<Vec<GitHubRepository>, Error> {
    let mut wanted: Vec<GitHubRepository> = Vec::with_capacity(names.len());
    for name in names {
        let found = reachable
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(name.as_str()))
            .ok_or_else(|| {
                Error::Unprocessable(format!(
                    "repositories: installation {installation_id} does not reach {}",
                    name.as_str()
                ))
            })?;
        if !wanted.iter().any(|w| w.id == found.id) {
            wanted.push(found.clone());
        }
    }
    Ok(wanted)
}

/// Disconnects the installation: its repositories (with their projects, tasks and commits) and the
/// binding. The App stays installed on GitHub (uninstall it there).
#[utoipa::path(
    delete,
    path = "/api/v2/orgs/{org}/github/installations/{installation_id}",
    tag = "github",
    params(("org" = String, Path, description = "The organization's slug"), ("installation_id" = i64, Path, description = "GitHub's id of the installation")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "No such installation in this organization", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn disconnect(
    mut member: Member,
    Path((_org, installation_id)): Path<(String, i64)>,
) -> Result<StatusCode, Error> {
    if !db::delete_installation(&mut member.tx, installation_id).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut member.tx,
        audit::Event {
            actor: Some(member.account),
            action: "github.installation_disconnected",
            target_type: "github_installation",
            target_id: installation_id.to_string(),
            details: serde_json::json!({}),
        },
    )
    .await?;
    member.tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
