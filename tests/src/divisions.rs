//! Divisions imported into a hosted place-names service over gRPC, as an operator's
//! `minzheng placenames import` does: what the tests whose other services learn divisions from
//! the place-names events start with.

use minzheng_host::testing::{TestHost, token, with_token};
use minzheng_kit::auth::Role;
use minzheng_proto::placenames::v1::{
    ImportDivisionsRequest, place_names_service_client::PlaceNamesServiceClient,
};
use time::Date;

/// Imports `csv` (the import's shape: `code,name,level,parent_code`) into `host`'s place-names
/// service as valid from `valid_from`, as a province-scoped operator.
pub async fn import(host: &TestHost, csv: &str, valid_from: Date) {
    PlaceNamesServiceClient::new(host.channel("placenames").await)
        .import_divisions(with_token(
            ImportDivisionsRequest {
                metadata: crate::scenario::metadata(),
                csv: csv.as_bytes().to_vec(),
                valid_from: Some(valid_from.into()),
            },
            &token(&[Role::Operator], &["210000000000"]),
        ))
        .await
        .expect("the divisions imported");
}
