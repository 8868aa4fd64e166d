//! The record enums as their messages: agencies, record kinds, data classes.

use minzheng_proto::datasharing::v1 as pb;

use crate::records::{Agency, DataClass, RecordKind};

pub fn agency_to_pb(agency: Agency) -> i32 {
    i32::from(agency.number())
}

pub fn agency_from_pb(value: i32) -> Option<Agency> {
    Agency::from_number(i64::from(value))
}

pub fn kind_to_pb(kind: RecordKind) -> i32 {
    i32::from(kind.number())
}

pub fn kind_from_pb(value: i32) -> Option<RecordKind> {
    RecordKind::from_number(i64::from(value))
}

pub fn class_to_pb(class: DataClass) -> i32 {
    match class {
        DataClass::Income => pb::DataClass::Income,
        DataClass::BankDeposits => pb::DataClass::BankDeposits,
        DataClass::RealEstate => pb::DataClass::RealEstate,
        DataClass::Vehicles => pb::DataClass::Vehicles,
        DataClass::BusinessRegistration => pb::DataClass::BusinessRegistration,
        DataClass::Tax => pb::DataClass::Tax,
        DataClass::SocialInsurance => pb::DataClass::SocialInsurance,
        DataClass::HousingFund => pb::DataClass::HousingFund,
        DataClass::Securities => pb::DataClass::Securities,
        DataClass::Disability => pb::DataClass::Disability,
        DataClass::HouseholdRegistration => pb::DataClass::HouseholdRegistration,
    }
    .into()
}

pub fn class_from_pb(value: i32) -> Option<DataClass> {
    DataClass::ALL
        .into_iter()
        .find(|class| class_to_pb(*class) == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_numbers_are_the_messages() {
        for agency in Agency::ALL {
            let pb = pb::Agency::try_from(agency_to_pb(agency)).expect("a known agency");
            let name = pb.as_str_name().to_ascii_lowercase();
            assert_eq!(name, format!("agency_{}", agency.code()));
            assert_eq!(agency_from_pb(agency_to_pb(agency)), Some(agency));
        }
        for kind in RecordKind::ALL {
            let pb = pb::RecordKind::try_from(kind_to_pb(kind)).expect("a known kind");
            assert_eq!(pb.as_str_name(), format!("RECORD_KIND_{}", kind.code()));
        }
        for class in DataClass::ALL {
            let pb = pb::DataClass::try_from(class_to_pb(class)).expect("a known class");
            assert_eq!(pb.as_str_name(), format!("DATA_CLASS_{}", class.code()));
            assert_eq!(class_from_pb(class_to_pb(class)), Some(class));
        }
        assert_eq!(agency_from_pb(0), None);
        assert_eq!(class_from_pb(0), None);
    }
}
