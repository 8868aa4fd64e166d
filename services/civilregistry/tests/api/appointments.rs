//! Slots and appointments at a registry.

use minzheng_host::testing::with_token;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::support::{
    self, HUSBAND, OTHER_MAN, OTHER_WOMAN, WEDDING_DAY, WIFE, agency, marriage_booking, publish,
};

/// A slot with one place takes one couple; the next is refused with the reason.
#[tokio::test]
async fn a_fully_booked_slot_refuses_another_couple() {
    let (host, mut client, _clock) = support::embedded().await;
    publish(&mut client, WEDDING_DAY, "0900", 1).await;
    client
        .book_appointment(with_token(
            marriage_booking(WEDDING_DAY, &[HUSBAND, WIFE]),
            &agency(),
        ))
        .await
        .expect("booked through the portal");
    let full = client
        .book_appointment(with_token(
            marriage_booking(WEDDING_DAY, &[OTHER_MAN, OTHER_WOMAN]),
            &agency(),
        ))
        .await
        .expect_err("the slot is full");
    assert_eq!(full.code(), Code::FailedPrecondition);
    assert_eq!(
        full.get_details_error_info()
            .map(|info| info.reason)
            .as_deref(),
        Some("slot_fully_booked"),
        "{full:?}"
    );
    host.shutdown().await;
}
