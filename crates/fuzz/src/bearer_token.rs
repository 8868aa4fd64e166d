//! Bearer-token verification over arbitrary input: the `authorization` metadata of every call,
//! and claims signed with a key the service trusts.

use std::sync::LazyLock;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use minzheng_kit::{
    auth::Authenticator,
    settings::{DEFAULT_AUDIENCE, DEFAULT_ISSUER},
};
use secrecy::SecretString;

/// The HS256 secret of the fuzzed verifier. Not a secret: only this target trusts it.
const SECRET: &str = "minzheng-fuzz-bearer-token-target-hs256-key";

/// What `run` does with the rest of the input, chosen by its first byte.
const SIGNED_CLAIMS: u8 = b'{';

static VERIFIER: LazyLock<Authenticator> = LazyLock::new(|| {
    Authenticator::dev(&SecretString::from(SECRET)).expect("a valid development secret")
});

/// With a first byte of `{`, `data` is a JSON claims object that the target signs with the
/// trusted key: the verifier must then accept only claims that are valid (a non-empty subject,
/// the platform's issuer and audience, an expiry not yet passed), and a principal holds only
/// roles the claims name. Any other `data` is the `authorization` metadata as it arrives:
/// the verifier refuses it, since no token signed with the trusted key can come from outside.
pub fn run(data: &[u8]) {
    if data.first() == Some(&SIGNED_CLAIMS) {
        signed_claims(data);
    } else {
        presented(data);
    }
}

/// `claims` signed with the trusted key: how the target signs, and how its corpus is seeded.
pub fn sign(claims: &serde_json::Value) -> String {
    let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("a valid HS256 key");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("claims sign")
}

fn presented(data: &[u8]) {
    let Ok(value) = http::HeaderValue::from_bytes(data) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::AUTHORIZATION, value);
    let result = VERIFIER.authenticate(&headers);
    assert!(
        result.is_err(),
        "metadata no trusted key signed was accepted: {result:?}"
    );
    let result = VERIFIER.verify(&String::from_utf8_lossy(data));
    assert!(
        result.is_err(),
        "a token no trusted key signed was accepted: {result:?}"
    );
}

fn signed_claims(data: &[u8]) {
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(principal) = VERIFIER.verify(&sign(&claims)) else {
        return;
    };
    let now = jsonwebtoken::get_current_timestamp();
    assert!(
        claims["sub"]
            .as_str()
            .is_some_and(|sub| !sub.trim().is_empty()),
        "accepted without a subject: {claims}"
    );
    // jsonwebtoken reads `iss` like `aud`: one value, or a list that holds the expected one.
    // The trusted key signed that list, so it is the issuer's word, not a forgery.
    assert!(
        names(&claims["iss"], DEFAULT_ISSUER),
        "accepted from another issuer: {claims}"
    );
    assert!(
        names(&claims["aud"], DEFAULT_AUDIENCE),
        "accepted for another audience: {claims}"
    );
    // The verifier allows the settings' clock leeway (30 s by default) past the expiry.
    assert!(
        claims["exp"]
            .as_f64()
            .is_some_and(|exp| exp + 60.0 >= now as f64),
        "accepted after its expiry: {claims}"
    );
    assert_eq!(
        principal.subject(),
        claims["sub"].as_str().unwrap_or_default()
    );
    for role in principal.roles() {
        assert!(
            claims["roles"]
                .as_array()
                .is_some_and(|roles| roles.iter().any(|r| r == role.as_str())),
            "a principal holds the role {role} its claims do not name"
        );
    }
}

/// Whether a claim is `expected` or a list holding it.
fn names(claim: &serde_json::Value, expected: &str) -> bool {
    claim == expected
        || claim
            .as_array()
            .is_some_and(|values| values.iter().any(|v| v == expected))
}
