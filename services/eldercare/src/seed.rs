//! The embedded mode's believable Benxi (being written).

use minzheng_types::RegionCode;

/// 本溪市.
pub fn benxi_city() -> RegionCode {
    RegionCode::parse("210500000000").expect("a valid code")
}

/// Seeds Benxi (being written).
pub async fn benxi(_app: &crate::app::ElderCare) -> anyhow::Result<()> {
    Ok(())
}
