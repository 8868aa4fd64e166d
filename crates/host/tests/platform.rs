//! The platform service over real gRPC on an embedded host: what a client sees for good and for
//! malformed input, and that health, reflection and token checks are wired in; and what the
//! host does for a module at start (its own migrations).

use minzheng_host::{Host, Mode};
use minzheng_kit::{
    auth::{Authenticator, Role, mint_dev_token},
    settings::PlatformSettings,
};
use minzheng_proto::{
    common::v1 as common,
    platform::v1::{
        CheckValuesRequest, GetInfoRequest, platform_service_client::PlatformServiceClient,
    },
};
use minzheng_types::RegionCode;
use secrecy::SecretString;
use tonic::{Code, Request, transport::Channel};
use tonic_types::StatusExt;

const SECRET: &str = "platform-test-secret-at-least-32-bytes-long";

async fn start() -> (minzheng_host::RunningHost, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        ..PlatformSettings::default()
    };
    let authenticator = Authenticator::dev(&SecretString::from(SECRET)).unwrap();
    let host = Host::new(Mode::Embedded, settings)
        .authenticator(authenticator)
        .start()
        .await
        .expect("host starts");
    (host, dir)
}

async fn client(host: &minzheng_host::RunningHost) -> PlatformServiceClient<Channel> {
    PlatformServiceClient::connect(format!("http://{}", host.local_addr()))
        .await
        .unwrap()
}

/// The field paths named by the status's `google.rpc.BadRequest`.
fn violated_fields(status: &tonic::Status) -> Vec<String> {
    let details = status.get_error_details();
    let bad_request = details
        .bad_request()
        .expect("INVALID_ARGUMENT carries a BadRequest");
    bad_request
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect()
}

#[tokio::test]
async fn check_values_explains_valid_values() {
    let (host, _dir) = start().await;
    let response = client(&host)
        .await
        .check_values(CheckValuesRequest {
            person: Some(common::CitizenRef {
                citizen_id: "11010519491231002X".into(),
            }),
            region: Some(common::RegionCode {
                code: "210502001000".into(),
            }),
            amount: Some(common::Money { fen: 66_500 }),
            remark: "  家庭困难  ".into(),
        })
        .await
        .expect("valid values pass")
        .into_inner();
    let birth = response.birth_date.expect("birth date");
    assert_eq!((birth.year, birth.month, birth.day), (1949, 12, 31));
    assert_eq!(response.sex(), common::Sex::Female);
    assert_eq!(response.region_level(), common::RegionLevel::Township);
    assert_eq!(response.region_parent.unwrap().code, "210502000000");
    assert_eq!(response.amount.unwrap().fen, 66_500);
    assert_eq!(response.remark, "家庭困难");
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_values_are_invalid_argument_naming_each_field() {
    let (host, _dir) = start().await;
    let mut client = client(&host).await;
    let status = client
        .check_values(CheckValuesRequest {
            // Wrong check digit.
            person: Some(common::CitizenRef {
                citizen_id: "110105194912310021".into(),
            }),
            // Not 12 digits.
            region: Some(common::RegionCode {
                code: "21050".into(),
            }),
            amount: Some(common::Money { fen: -1 }),
            remark: "x".repeat(501),
        })
        .await
        .expect_err("every value is wrong");
    assert_eq!(status.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        ["amount.fen", "person.citizen_id", "region.code", "remark"]
    );

    // A legacy 15-digit number gets its own explanation.
    let status = client
        .check_values(CheckValuesRequest {
            person: Some(common::CitizenRef {
                citizen_id: "110105491231002".into(),
            }),
            ..Default::default()
        })
        .await
        .expect_err("15-digit numbers are refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["person.citizen_id"]);
    assert!(
        status.message().contains("18"),
        "the message explains the 18-digit form: {}",
        status.message()
    );
    host.shutdown().await.unwrap();
}

#[tokio::test]
async fn tokens_are_checked_and_info_lists_no_services_yet() {
    let (host, _dir) = start().await;
    let mut client = client(&host).await;

    let mut bad = Request::new(GetInfoRequest {});
    bad.metadata_mut()
        .insert("authorization", "Bearer not-a-token".parse().unwrap());
    let status = client.get_info(bad).await.expect_err("bad token refused");
    assert_eq!(status.code(), Code::Unauthenticated);

    let token = mint_dev_token(
        &SecretString::from(SECRET),
        "tester",
        &[Role::Operator],
        &[RegionCode::parse("210500000000").unwrap()],
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    let mut good = Request::new(GetInfoRequest {});
    good.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let info = client
        .get_info(good)
        .await
        .expect("good token")
        .into_inner();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert!(info.services.is_empty(), "no domain service is wired yet");
    host.shutdown().await.unwrap();
}

/// A service with a store and nothing else, so the platform service has a store to report on.
#[derive(Debug)]
struct StoreOnly;

#[async_trait::async_trait]
impl minzheng_host::ServiceModule for StoreOnly {
    fn name(&self) -> &'static str {
        "storeonly"
    }

    async fn start(
        &self,
        _context: &minzheng_host::ServiceContext,
        server: minzheng_kit::server::ServerBuilder,
    ) -> anyhow::Result<minzheng_kit::server::ServerBuilder> {
        Ok(server)
    }
}

#[tokio::test]
async fn store_down_is_unavailable_and_recovers() {
    use minzheng_testkit::{
        TestDatabase,
        proxy::{TcpProxy, postgres_url_via},
    };

    let db = TestDatabase::create().await;
    let proxy = TcpProxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        database_url: Some(SecretString::from(postgres_url_via(&proxy, &db.name))),
        ..PlatformSettings::default()
    };
    let host = Host::new(Mode::Embedded, settings)
        .authenticator(Authenticator::dev(&SecretString::from(SECRET)).unwrap())
        .module(StoreOnly)
        .start()
        .await
        .expect("host starts on PostgreSQL");
    let mut client = client(&host).await;

    let info = client
        .get_info(GetInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.services.len(), 1);
    assert_eq!(info.services[0].name, "storeonly");
    assert_eq!(
        info.services[0].store_backend(),
        minzheng_proto::platform::v1::StoreBackend::Postgres
    );

    proxy.cut();
    let status = client
        .get_info(GetInfoRequest {})
        .await
        .expect_err("the store is unreachable");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");

    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if client.get_info(GetInfoRequest {}).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        recovered,
        "the service answers again once the store is back"
    );
    host.shutdown().await.unwrap();
}

/// A module with a projection table of its own: `start` writes a row into it, so it must exist
/// before the module starts.
struct WithTable;

#[async_trait::async_trait]
impl minzheng_host::ServiceModule for WithTable {
    fn name(&self) -> &'static str {
        "withtable"
    }

    fn migrations(&self) -> Vec<minzheng_eventstore::migrations::ServiceMigration> {
        vec![minzheng_eventstore::migrations::ServiceMigration::portable(
            1000,
            "starts",
            "CREATE TABLE wt_starts (n BIGINT NOT NULL)",
        )]
    }

    async fn start(
        &self,
        context: &minzheng_host::ServiceContext,
        server: minzheng_kit::server::ServerBuilder,
    ) -> anyhow::Result<minzheng_kit::server::ServerBuilder> {
        sqlx::query("INSERT INTO wt_starts (n) VALUES (1)")
            .execute(context.db())
            .await?;
        Ok(server)
    }
}

#[tokio::test]
async fn a_modules_migrations_are_applied_before_it_starts_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let settings = PlatformSettings {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        ..PlatformSettings::default()
    };
    for _start in 0..2 {
        let host = Host::new(Mode::Embedded, settings.clone())
            .authenticator(Authenticator::dev(&SecretString::from(SECRET)).unwrap())
            .module(WithTable)
            .start()
            .await
            .expect("host starts, also again on the migrated database");
        host.shutdown().await.unwrap();
    }
    let url = settings.database_url_or_embedded("withtable");
    let pool = minzheng_bus::connect_any(
        secrecy::ExposeSecret::expose_secret(&url),
        minzheng_eventstore::DEFAULT_ACQUIRE_TIMEOUT,
    )
    .await
    .unwrap();
    let starts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wt_starts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(starts, 2);
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE version >= 1000")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(versions, [1000]);
}
