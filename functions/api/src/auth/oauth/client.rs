//! The OAuth 2.0 part every provider shares, through the `oauth2` crate: the authorization URL
//! (state, PKCE S256, extra parameters such as the OIDC nonce) and the code exchange with the PKCE
//! verifier over our [`Http`] client. A token endpoint that answers HTTP 200 with an `{error}` body
//! (GitHub does, O7) is read as the refusal it is.

use dashboard_shared::Error;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse as _,
    TokenUrl,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

use super::{providers::Provider, transport::Http};

/// Where a provider's endpoints are, and how it wants our credentials.
pub struct Endpoints<'a> {
    /// The authorization endpoint.
    pub authorize: &'a str,
    /// The token endpoint.
    pub token: &'a str,
    /// Client id and secret in the form body (GitHub) instead of HTTP Basic.
    pub secret_in_body: bool,
}

/// The `id_token` of an OpenID Connect token response (absent from GitHub's).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdTokenField {
    /// The ID token, verified by `oidc`.
    pub id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What the token endpoint gave.
pub struct Grant {
    /// The provider's access token (GitHub's API); never logged.
    pub access_token: SecretString,
    /// The ID token (OpenID Connect).
    pub id_token: Option<String>,
}

fn client(provider: &Provider, at: &Endpoints<'_>, redirect: &str) -> anyhow::Result<OAuthClient> {
    let auth_type = if at.secret_in_body {
        AuthType::RequestBody
    } else {
        AuthType::BasicAuth
    };
    Ok(
        oauth2::Client::new(ClientId::new(provider.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                provider.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(AuthUrl::new(at.authorize.to_owned())?)
            .set_token_uri(TokenUrl::new(at.token.to_owned())?)
            .set_redirect_uri(RedirectUrl::new(redirect.to_owned())?)
            .set_auth_type(auth_type),
    )
}

/// The URL that sends the browser to the provider.
pub fn authorize_url(
    provider: &Provider,
    at: &Endpoints<'_>,
    redirect: &str,
    state: &str,
    challenge: PkceCodeChallenge,
    scopes: &[&str],
    extra: &[(&str, &str)],
) -> anyhow::Result<String> {
    let state = CsrfToken::new(state.to_owned());
    let client = client(provider, at, redirect)?;
    let mut request = client
        .authorize_url(move || state)
        .set_pkce_challenge(challenge)
        .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
    for (name, value) in extra {
        request = request.add_extra_param(*name, *value);
    }
    Ok(request.url().0.to_string())
}

/// Exchanges `code` with the PKCE `verifier`. A refusal is a 400 naming the provider's error code.
pub async fn exchange(
    http: &Http,
    provider: &Provider,
    at: &Endpoints<'_>,
    redirect: &str,
    code: &str,
    verifier: &str,
) -> Result<Grant, Error> {
    let client = client(provider, at, redirect)?;
    let answer = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
        .request_async(http)
        .await;
    match answer {
        Ok(token) => Ok(Grant {
            access_token: SecretString::from(token.access_token().secret().to_owned()),
            id_token: token.extra_fields().id_token.clone(),
        }),
        Err(RequestTokenError::ServerResponse(refusal)) => {
            Err(refused(provider, refusal.error().as_ref()))
        }
        Err(RequestTokenError::Parse(_, body)) => {
            match serde_json::from_slice::<BasicErrorResponse>(&body) {
                Ok(refusal) => Err(refused(provider, refusal.error().as_ref())),
                Err(_) => Err(Error::BadRequest(format!(
                    "{} answered the code exchange with something that is not a token",
                    provider.label
                ))),
            }
        }
        Err(RequestTokenError::Request(error)) => Err(Error::Unavailable(
            anyhow::Error::new(error)
                .context(format!("{}: token endpoint unreachable", provider.name)),
        )),
        Err(RequestTokenError::Other(reason)) => Err(Error::BadRequest(format!(
            "{} refused the sign-in ({})",
            provider.label,
            printable(&reason)
        ))),
    }
}

fn refused(provider: &Provider, code: &str) -> Error {
    Error::BadRequest(format!(
        "{} refused the sign-in ({}); start again",
        provider.label,
        printable(code)
    ))
}

/// An error code from a provider, as we repeat it: short, and only characters codes use.
pub fn printable(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        .take(64)
        .collect()
}
