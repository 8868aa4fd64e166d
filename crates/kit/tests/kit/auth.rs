//! Token verification and the principal checks, without a server (the server tests cover the
//! same over the wire).

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey};
use minzheng_kit::{
    access::Rule,
    auth::{
        self, AuthError, Authenticator, Claims, Principal, Role, TokenError, mint, mint_dev_token,
    },
    settings::AuthSettings,
};
use secrecy::SecretString;
use tonic::Code;

use crate::support::{authenticator, dev_settings, fixture, region, secret, token};

const TOWNSHIP: &str = "210502001000";
const COUNTY: &str = "210502000000";
const OTHER_COUNTY: &str = "210503000000";

#[test]
fn a_dev_token_yields_its_principal() {
    let token = token("staff-0042", &[Role::Caseworker], &[TOWNSHIP]);
    let principal = authenticator().verify(&token).expect("valid token");
    assert_eq!(principal.subject(), "staff-0042");
    assert!(principal.has_role(Role::Caseworker));
    assert!(!principal.has_role(Role::Approver));
    assert_eq!(principal.regions(), &[region(TOWNSHIP)]);
}

#[test]
fn region_scope_follows_the_division_hierarchy() {
    let approver = Principal::new("staff-7", [Role::Approver], [region(COUNTY)]);
    assert!(approver.may_act_in(region(COUNTY)), "its own county");
    assert!(
        approver.may_act_in(region(TOWNSHIP)),
        "a township in its county"
    );
    assert!(!approver.may_act_in(region(OTHER_COUNTY)));
    assert!(
        !approver.may_act_in(region("210500000000")),
        "not the enclosing city"
    );

    let caseworker = Principal::new("staff-8", [Role::Caseworker], [region(TOWNSHIP)]);
    assert!(!caseworker.may_act_in(region(COUNTY)));

    let unscoped = Principal::new("auditor-1", [Role::Auditor], []);
    assert!(
        !unscoped.may_act_in(region(TOWNSHIP)),
        "no regions means nowhere"
    );
}

#[test]
fn expired_tokens_are_rejected() {
    let past = jsonwebtoken::get_current_timestamp() - 600;
    let claims = Claims::new("staff-1", &[Role::Caseworker], &[], Duration::ZERO).expiring_at(past);
    let token = auth::mint_hs256(&secret(), &claims).expect("mint");
    assert_eq!(authenticator().verify(&token), Err(TokenError::Expired));
}

#[test]
fn tokens_signed_with_another_secret_are_rejected() {
    let other = SecretString::from("another-secret-another-secret-another!");
    let token = mint_dev_token(
        &other,
        "staff-1",
        &[Role::Caseworker],
        &[],
        Duration::from_secs(60),
    )
    .expect("mint");
    assert_eq!(
        authenticator().verify(&token),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn issuer_and_audience_must_match() {
    let claims = Claims::new("staff-1", &[], &[], Duration::from_secs(60));
    let token =
        auth::mint_hs256(&secret(), &claims.clone().with_issuer("elsewhere")).expect("mint");
    assert_eq!(authenticator().verify(&token), Err(TokenError::WrongIssuer));
    let token = auth::mint_hs256(&secret(), &claims.with_audience("other-system")).expect("mint");
    assert_eq!(
        authenticator().verify(&token),
        Err(TokenError::WrongAudience)
    );
}

#[test]
fn only_the_platform_algorithms_are_accepted() {
    let claims = Claims::new("staff-1", &[], &[], Duration::from_secs(60));
    let key = EncodingKey::from_secret(b"test-secret-test-secret-test-secret!").expect("key");
    let token = mint(&key, Algorithm::HS512, &claims).expect("mint");
    assert!(matches!(
        authenticator().verify(&token),
        Err(TokenError::AlgorithmNotAccepted(_))
    ));
    assert_eq!(
        authenticator().verify("not.a.token"),
        Err(TokenError::Malformed)
    );
    // An unsigned token (`alg: none`) is never accepted.
    let unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.";
    assert!(authenticator().verify(unsigned).is_err());
}

fn production_authenticator() -> Authenticator {
    // Two keys in one file, as during a key rotation.
    let mut pem = std::fs::read_to_string(fixture("rsa-public.pem")).expect("rsa fixture");
    pem.push_str(&std::fs::read_to_string(fixture("ed25519-public.pem")).expect("ed fixture"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("keys.pem");
    std::fs::write(&path, pem).expect("write keys");
    Authenticator::from_settings(&AuthSettings {
        public_key_file: Some(path),
        ..AuthSettings::default()
    })
    .expect("public keys load")
}

fn private_key(name: &str, rsa: bool) -> EncodingKey {
    let pem = std::fs::read(fixture(name)).expect("private key fixture");
    if rsa {
        EncodingKey::from_rsa_pem(&pem).expect("rsa key")
    } else {
        EncodingKey::from_ed_pem(&pem).expect("ed key")
    }
}

#[test]
fn rs256_and_eddsa_tokens_verify_against_public_keys() {
    let verifier = production_authenticator();
    let claims = Claims::new(
        "svc-datasharing",
        &[Role::Operator],
        &[],
        Duration::from_secs(60),
    );

    let token = mint(
        &private_key("rsa-private.pem", true),
        Algorithm::RS256,
        &claims,
    )
    .expect("mint");
    assert_eq!(
        verifier.verify(&token).map(|p| p.subject().to_owned()),
        Ok("svc-datasharing".to_owned())
    );

    let token = mint(
        &private_key("ed25519-private.pem", false),
        Algorithm::EdDSA,
        &claims,
    )
    .expect("mint");
    assert!(
        verifier
            .verify(&token)
            .is_ok_and(|p| p.has_role(Role::Operator))
    );

    // Without the development secret, HS256 tokens are refused outright: nobody can sign one
    // with a public key as the HMAC secret.
    let dev = token_for_dev();
    assert!(matches!(
        verifier.verify(&dev),
        Err(TokenError::AlgorithmNotAccepted(_))
    ));
}

fn token_for_dev() -> String {
    token("staff-1", &[Role::Caseworker], &[])
}

#[test]
fn inline_pem_and_bad_key_material() {
    let pem = std::fs::read_to_string(fixture("ed25519-public.pem")).expect("fixture");
    let verifier = Authenticator::from_settings(&AuthSettings {
        public_keys_pem: Some(pem),
        ..AuthSettings::default()
    })
    .expect("inline key loads");
    let claims = Claims::new("svc-1", &[], &[], Duration::from_secs(60));
    let token = mint(
        &private_key("ed25519-private.pem", false),
        Algorithm::EdDSA,
        &claims,
    )
    .expect("mint");
    assert!(verifier.verify(&token).is_ok());

    let error = Authenticator::from_settings(&AuthSettings {
        public_keys_pem: Some(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into(),
        ),
        ..AuthSettings::default()
    })
    .expect_err("garbage key");
    assert!(matches!(error, AuthError::InvalidPublicKey { index: 0 }));

    assert!(matches!(
        Authenticator::from_settings(&AuthSettings::default()),
        Err(AuthError::NoKeys)
    ));
    assert!(matches!(
        Authenticator::dev(&SecretString::from("short")),
        Err(AuthError::WeakSecret)
    ));
}

#[test]
fn unknown_roles_are_ignored_and_bad_regions_rejected() {
    let mut claims = Claims::new("staff-1", &[Role::Auditor], &[], Duration::from_secs(60));
    claims.roles.push("superuser".to_owned());
    let principal = authenticator()
        .verify(&auth::mint_hs256(&secret(), &claims).expect("mint"))
        .expect("unknown roles do not invalidate a token");
    assert_eq!(principal.roles().collect::<Vec<_>>(), [Role::Auditor]);

    claims.regions.push("2105".to_owned());
    let token = auth::mint_hs256(&secret(), &claims).expect("mint");
    assert!(matches!(
        authenticator().verify(&token),
        Err(TokenError::InvalidClaims(_))
    ));
}

#[test]
fn the_agency_claim_reaches_the_principal() {
    let claims = Claims::new("agency-hr", &[Role::Agency], &[], Duration::from_secs(60))
        .with_agency("human-resources");
    let principal = authenticator()
        .verify(&auth::mint_hs256(&secret(), &claims).expect("mint"))
        .expect("valid");
    assert_eq!(principal.agency(), Some("human-resources"));
}

#[test]
fn authorization_metadata_is_parsed_strictly() {
    let verifier = Authenticator::from_settings(&dev_settings()).expect("dev settings");
    let mut headers = http::HeaderMap::new();
    assert_eq!(
        verifier.authenticate(&headers),
        Ok(None),
        "no header, no principal"
    );

    headers.insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    assert_eq!(verifier.authenticate(&headers), Err(TokenError::NotBearer));
    headers.insert("authorization", "Bearer ".parse().unwrap());
    assert_eq!(verifier.authenticate(&headers), Err(TokenError::NotBearer));

    let token = token("staff-3", &[Role::Approver], &[COUNTY]);
    headers.insert("authorization", format!("bearer {token}").parse().unwrap());
    let principal = verifier
        .authenticate(&headers)
        .expect("valid")
        .expect("present");
    assert_eq!(principal.subject(), "staff-3");
}

#[test]
fn access_rules_answer_unauthenticated_or_permission_denied() {
    let anonymous = tonic::Request::new(());
    assert!(auth::principal(&anonymous).is_none());
    let caseworkers = Rule::roles(&[Role::Caseworker]).in_field("region");
    assert_eq!(
        caseworkers.admit(None).map_err(|e| e.code()),
        Err(Code::Unauthenticated)
    );

    let mut request = tonic::Request::new(());
    request.extensions_mut().insert(Principal::new(
        "staff-9",
        [Role::Caseworker],
        [region(TOWNSHIP)],
    ));
    let principal = auth::principal(&request);
    assert_eq!(principal.map(|p| p.subject()), Some("staff-9"));
    assert!(caseworkers.admit(principal).is_ok());
    assert_eq!(
        Rule::roles(&[Role::Approver])
            .admit(principal)
            .map_err(|e| e.code()),
        Err(Code::PermissionDenied)
    );
    assert!(
        Rule::roles(&[Role::Approver, Role::Caseworker])
            .admit(principal)
            .is_ok()
    );
    assert!(
        caseworkers
            .check_region(principal, region(TOWNSHIP))
            .is_ok()
    );
    assert_eq!(
        caseworkers
            .check_region(principal, region("210502002000"))
            .map_err(|e| e.code()),
        Err(Code::PermissionDenied)
    );
}

#[test]
fn debug_output_of_the_authenticator_hides_key_material() {
    let printed = format!("{:?}", authenticator());
    assert!(!printed.contains("test-secret"), "{printed}");
    assert!(printed.contains("Hmac"), "{printed}");
}
