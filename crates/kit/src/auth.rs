//! Who is calling: signed bearer tokens, the [`Principal`] they yield, and the checks handlers
//! make against it.
//!
//! Tokens are JWTs. In development and the embedded mode they are signed with a shared HS256
//! secret ([`mint_dev_token`] makes them); in production the identity provider signs with RS256
//! or EdDSA and services hold only the public keys (PEM). Claims: `sub` (a staff or system
//! account id, never a citizen's), `roles`, `regions` (12-digit division codes the principal may
//! act in), `agency` (for the agency role), `exp`, `iss`, `aud`.
//!
//! The [`AuthLayer`] runs before every RPC: a request without a token proceeds with no principal
//! (some queries are public), a request with a bad or expired token is refused at once with
//! UNAUTHENTICATED, and a good token puts its [`Principal`] into the request's extensions.
//! Which roles and regions each RPC needs is the service's access policy ([`crate::access`]),
//! which the edge applies before the handler runs: UNAUTHENTICATED when there is no principal,
//! PERMISSION_DENIED when the role or region scope is wrong.
//!
//! This module deliberately knows nothing of which RPC needs which role. It never logs a token.

use std::{
    collections::BTreeSet,
    fmt,
    path::PathBuf,
    str::FromStr,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures::future::{Either, Ready, ready};
use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind,
};
use minzheng_types::{CitizenId, RegionCode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::{
    Error,
    settings::{AuthSettings, DEFAULT_AUDIENCE, DEFAULT_ISSUER},
};

/// Shortest accepted HS256 secret, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_LEN: usize = 32;

/// What a principal may do. A principal has any number of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Records applications and cases; scoped to townships.
    Caseworker,
    /// Decides on applications; scoped to counties.
    Approver,
    /// Reads everything, changes nothing.
    Auditor,
    /// Runs the platform (replays, parked messages).
    Operator,
    /// Another agency's system, receiving what its agreement allows.
    Agency,
    /// A citizen, reading what concerns them (who looked at their data); the token names them
    /// in its `citizen` claim.
    Citizen,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Caseworker,
        Role::Approver,
        Role::Auditor,
        Role::Operator,
        Role::Agency,
        Role::Citizen,
    ];

    /// The name used in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::Operator => "operator",
            Role::Agency => "agency",
            Role::Citizen => "citizen",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}; expected caseworker, approver, auditor, operator, agency or \
                     citizen"
                )
            })
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    subject: String,
    roles: BTreeSet<Role>,
    regions: Vec<RegionCode>,
    agency: Option<String>,
    citizen: Option<CitizenId>,
}

impl Principal {
    /// A principal, e.g. for a system account acting inside the process or for tests.
    pub fn new(
        subject: impl Into<String>,
        roles: impl IntoIterator<Item = Role>,
        regions: impl IntoIterator<Item = RegionCode>,
    ) -> Self {
        Self {
            subject: subject.into(),
            roles: roles.into_iter().collect(),
            regions: regions.into_iter().collect(),
            agency: None,
            citizen: None,
        }
    }

    pub fn with_agency(mut self, agency: impl Into<String>) -> Self {
        self.agency = Some(agency.into());
        self
    }

    /// The citizen a citizen-role principal is (the token's `citizen` claim).
    pub fn with_citizen(mut self, citizen: CitizenId) -> Self {
        self.citizen = Some(citizen);
        self
    }

    /// The citizen this principal is, for the citizen role (never logged: it is an id number).
    pub fn citizen(&self) -> Option<&CitizenId> {
        self.citizen.as_ref()
    }

    /// The account id (`sub`): what events record as their actor.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn roles(&self) -> impl Iterator<Item = Role> + '_ {
        self.roles.iter().copied()
    }

    pub fn regions(&self) -> &[RegionCode] {
        &self.regions
    }

    /// The agency this principal acts for (agency role).
    pub fn agency(&self) -> Option<&str> {
        self.agency.as_deref()
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether `region` lies within one of the principal's regions. A principal without regions
    /// may act nowhere: scope is granted, never assumed.
    pub fn may_act_in(&self, region: RegionCode) -> bool {
        self.regions.iter().any(|scope| scope.contains(region))
    }

    /// PERMISSION_DENIED unless the principal has one of `roles`; returns the first it has.
    pub fn require_any_role(&self, roles: &[Role]) -> Result<Role, Error> {
        roles
            .iter()
            .copied()
            .find(|role| self.has_role(*role))
            .ok_or_else(|| {
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                Error::PermissionDenied(format!("requires one of the roles {}", names.join(", ")))
            })
    }
}

/// The request's principal, if it came with a valid token.
pub fn principal<T>(request: &tonic::Request<T>) -> Option<&Principal> {
    request.extensions().get::<Principal>()
}

/// The request's principal; UNAUTHENTICATED when it came without a token.
pub fn authenticated<T>(request: &tonic::Request<T>) -> Result<&Principal, Error> {
    principal(request)
        .ok_or_else(|| Error::Unauthenticated("this call needs a bearer token".to_owned()))
}

/// Why a presented token was rejected. Messages are safe to send to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("authorization metadata must be `Bearer <token>`")]
    NotBearer,
    #[error("token is malformed")]
    Malformed,
    #[error("token has expired")]
    Expired,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token was issued by an unexpected issuer")]
    WrongIssuer,
    #[error("token is meant for another audience")]
    WrongAudience,
    #[error("token algorithm {0} is not accepted here")]
    AlgorithmNotAccepted(String),
    #[error("token claims are invalid: {0}")]
    InvalidClaims(String),
}

/// Why token verification could not be set up, or a token could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "no token verification key configured: set MZ_AUTH__DEV_SECRET (development) or \
         MZ_AUTH__PUBLIC_KEY_FILE / MZ_AUTH__PUBLIC_KEYS_PEM"
    )]
    NoKeys,
    #[error("the HS256 secret must be at least {MIN_SECRET_LEN} bytes")]
    WeakSecret,
    #[error("cannot read public key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("public key {index} is not an RSA or Ed25519 public key in PEM form")]
    InvalidPublicKey { index: usize },
    #[error("no PEM public key found in the configured key material")]
    EmptyPem,
    #[error("signing a token failed: {0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Claims as signed into a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// The citizen's id number, for the citizen role. PERSONAL DATA: a token is a credential,
    /// never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citizen: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: u64,
    pub iss: String,
    pub aud: String,
}

impl Claims {
    /// Claims for `sub` valid for `ttl` from now, with the default issuer and audience.
    pub fn new(
        sub: impl Into<String>,
        roles: &[Role],
        regions: &[RegionCode],
        ttl: Duration,
    ) -> Self {
        let now = jsonwebtoken::get_current_timestamp();
        Self {
            sub: sub.into(),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            regions: regions.iter().map(ToString::to_string).collect(),
            agency: None,
            citizen: None,
            exp: now.saturating_add(ttl.as_secs()),
            iat: now,
            iss: DEFAULT_ISSUER.to_owned(),
            aud: DEFAULT_AUDIENCE.to_owned(),
        }
    }

    pub fn with_agency(mut self, agency: impl Into<String>) -> Self {
        self.agency = Some(agency.into());
        self
    }

    /// Names the citizen a citizen-role token is for.
    pub fn with_citizen(mut self, citizen: &CitizenId) -> Self {
        self.citizen = Some(citizen.expose().to_owned());
        self
    }

    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.iss = issuer.into();
        self
    }

    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.aud = audience.into();
        self
    }

    /// Sets the expiry to an absolute time (seconds since the Unix epoch).
    pub fn expiring_at(mut self, exp: u64) -> Self {
        self.exp = exp;
        self
    }
}

/// Signs `claims` with `key`.
pub fn mint(key: &EncodingKey, algorithm: Algorithm, claims: &Claims) -> Result<String, AuthError> {
    jsonwebtoken::encode(&Header::new(algorithm), claims, key).map_err(AuthError::Signing)
}

/// Signs `claims` with the HS256 development secret.
pub fn mint_hs256(secret: &SecretString, claims: &Claims) -> Result<String, AuthError> {
    let secret = secret.expose_secret().as_bytes();
    if secret.len() < MIN_SECRET_LEN {
        return Err(AuthError::WeakSecret);
    }
    let key = EncodingKey::from_secret(secret).map_err(AuthError::Signing)?;
    mint(&key, Algorithm::HS256, claims)
}

/// A development token for `sub` with the default issuer and audience, valid for `ttl`: what
/// `minzheng token` prints and the embedded mode shows at start-up.
pub fn mint_dev_token(
    secret: &SecretString,
    sub: &str,
    roles: &[Role],
    regions: &[RegionCode],
    ttl: Duration,
) -> Result<String, AuthError> {
    mint_hs256(secret, &Claims::new(sub, roles, regions, ttl))
}

/// Verifies bearer tokens and turns them into principals. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Verifier>,
}

struct Verifier {
    keys: Vec<DecodingKey>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key material stays out of logs; the families say enough to debug a set-up.
        let families: Vec<String> = self
            .inner
            .keys
            .iter()
            .map(|k| format!("{:?}", k.family()))
            .collect();
        f.debug_struct("Authenticator")
            .field("keys", &families)
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .finish()
    }
}

/// The claims read back from a verified token; `exp`, `iss` and `aud` were checked by the
/// library and are not needed afterwards.
#[derive(Deserialize)]
struct VerifiedClaims {
    sub: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    agency: Option<String>,
    #[serde(default)]
    citizen: Option<String>,
}

impl Authenticator {
    /// The verifier the settings describe: the development secret and/or the public keys.
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, AuthError> {
        let mut keys = Vec::new();
        if let Some(secret) = &settings.dev_secret {
            keys.push(hs256_key(secret)?);
            tracing::warn!(
                "hs256 development token secret is configured; do not use in production"
            );
        }
        let mut pem = String::new();
        if let Some(path) = &settings.public_key_file {
            pem = std::fs::read_to_string(path).map_err(|source| AuthError::KeyFile {
                path: path.clone(),
                source,
            })?;
        }
        if let Some(inline) = &settings.public_keys_pem {
            pem.push('\n');
            pem.push_str(inline);
        }
        if settings.public_key_file.is_some() || settings.public_keys_pem.is_some() {
            keys.extend(public_keys(&pem)?);
        }
        if keys.is_empty() {
            return Err(AuthError::NoKeys);
        }
        Ok(Self {
            inner: Arc::new(Verifier {
                keys,
                issuer: settings.issuer.clone(),
                audience: settings.audience.clone(),
                leeway_secs: settings.leeway_secs,
            }),
        })
    }

    /// A development verifier for tokens from [`mint_dev_token`].
    pub fn dev(secret: &SecretString) -> Result<Self, AuthError> {
        Self::from_settings(&AuthSettings {
            dev_secret: Some(secret.clone()),
            ..AuthSettings::default()
        })
    }

    /// Verifies a token (without the `Bearer ` prefix).
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        // Only the algorithms the platform issues; anything else (`none`, ES256, HS512…) is
        // refused before any key is tried.
        let family = match header.alg {
            Algorithm::HS256 => AlgorithmFamily::Hmac,
            Algorithm::RS256 => AlgorithmFamily::Rsa,
            Algorithm::EdDSA => AlgorithmFamily::Ed,
            other => return Err(TokenError::AlgorithmNotAccepted(format!("{other:?}"))),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.inner.issuer]);
        validation.set_audience(&[&self.inner.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = self.inner.leeway_secs;

        let mut result = Err(TokenError::AlgorithmNotAccepted(format!(
            "{:?}",
            header.alg
        )));
        // Several keys of one family exist during key rotation: try each until one verifies.
        for key in self.inner.keys.iter().filter(|k| k.family() == family) {
            match jsonwebtoken::decode::<VerifiedClaims>(token, key, &validation) {
                Ok(data) => return principal_from(data.claims),
                Err(error) => {
                    result = Err(token_error(error.kind()));
                    if result != Err(TokenError::BadSignature) {
                        break;
                    }
                }
            }
        }
        result
    }

    /// The principal of a request's `authorization` metadata: `Ok(None)` when there is none,
    /// an error when it is present but not a valid bearer token.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Option<Principal>, TokenError> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let value = value.to_str().map_err(|_| TokenError::NotBearer)?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(TokenError::NotBearer),
        };
        if token.is_empty() {
            return Err(TokenError::NotBearer);
        }
        self.verify(token).map(Some)
    }
}

fn hs256_key(secret: &SecretString) -> Result<DecodingKey, AuthError> {
    let secret = secret.expose_secret().as_bytes();
    if secret.len() < MIN_SECRET_LEN {
        return Err(AuthError::WeakSecret);
    }
    DecodingKey::from_secret(secret).map_err(|_| AuthError::WeakSecret)
}

/// Every public key in a text of concatenated PEM blocks.
fn public_keys(pem: &str) -> Result<Vec<DecodingKey>, AuthError> {
    const BEGIN: &str = "-----BEGIN ";
    let mut keys = Vec::new();
    for (index, block) in pem.split(BEGIN).skip(1).enumerate() {
        let block = format!("{BEGIN}{block}");
        let key = DecodingKey::from_rsa_pem(block.as_bytes())
            .or_else(|_| DecodingKey::from_ed_pem(block.as_bytes()))
            .map_err(|_| AuthError::InvalidPublicKey { index })?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(AuthError::EmptyPem);
    }
    Ok(keys)
}

fn token_error(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidAlgorithm => TokenError::AlgorithmNotAccepted("mismatched".to_owned()),
        ErrorKind::MissingRequiredClaim(claim) => {
            TokenError::InvalidClaims(format!("missing {claim}"))
        }
        ErrorKind::ImmatureSignature => TokenError::InvalidClaims("not yet valid".to_owned()),
        ErrorKind::Json(_) => {
            TokenError::InvalidClaims("claims do not have the expected form".to_owned())
        }
        _ => TokenError::Malformed,
    }
}

fn principal_from(claims: VerifiedClaims) -> Result<Principal, TokenError> {
    if claims.sub.trim().is_empty() {
        return Err(TokenError::InvalidClaims("sub is empty".to_owned()));
    }
    let roles = claims
        .roles
        .iter()
        .filter_map(|name| match name.parse::<Role>() {
            Ok(role) => Some(role),
            Err(_) => {
                // A role this build does not know grants nothing; refusing the whole token would
                // lock out every user the day the issuer adds a role.
                tracing::debug!(role = %name, "ignoring unknown role in token");
                None
            }
        });
    let roles: BTreeSet<Role> = roles.collect();
    let regions = claims
        .regions
        .iter()
        .map(|code| RegionCode::parse(code))
        .collect::<Result<Vec<_>, _>>()
        // A malformed scope could widen or narrow access in ways nobody intended: fail closed.
        .map_err(|_| {
            TokenError::InvalidClaims("regions must be 12-digit division codes".to_owned())
        })?;
    let citizen = claims
        .citizen
        .as_deref()
        .map(CitizenId::parse)
        .transpose()
        // A malformed citizen claim must not pass for nobody: fail closed.
        .map_err(|_| TokenError::InvalidClaims("citizen must be a citizen id number".to_owned()))?;
    Ok(Principal {
        subject: claims.sub,
        roles,
        regions,
        agency: claims.agency,
        citizen,
    })
}

/// Tower layer that authenticates every request (see the module docs). The server builder
/// always installs it.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    authenticator: Authenticator,
}

impl AuthLayer {
    pub fn new(authenticator: Authenticator) -> Self {
        Self { authenticator }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

/// The service [`AuthLayer`] wraps around the routes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    authenticator: Authenticator,
}

impl<S, B> tower::Service<http::Request<B>> for AuthService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Self::Response, Self::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match self.authenticator.authenticate(request.headers()) {
            Ok(Some(principal)) => {
                request.extensions_mut().insert(principal);
            }
            Ok(None) => {
                // Strip any principal smuggled in by an outer layer: only a token makes one.
                request.extensions_mut().remove::<Principal>();
            }
            Err(reason) => {
                tracing::debug!(%reason, "rejected bearer token");
                let status = tonic::Status::unauthenticated(reason.to_string());
                return Either::Left(ready(Ok(status.into_http())));
            }
        }
        // `poll_ready` was called on `self.inner`, so it is the one that must take the call.
        Either::Right(self.inner.call(request))
    }
}
