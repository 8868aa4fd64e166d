//! The registries and the plan's indicators for this service (DOMAIN.md, box 1 of the plan):
//! the eco-burial rate (节地生态安葬率, target 60% by 2025) over a period, and the coverage of
//! marriage and family counselling rooms (婚姻家庭辅导室) in the county-level registries (target
//! 80%), per county and city-wide.

use std::collections::BTreeMap;

use minzheng_eventstore::StoreError;
use minzheng_kit::Error;
use minzheng_types::{RegionCode, RegionLevel};
use time::Date;

use super::CivilRegistry;
use crate::divisions::Division;

/// A registry on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryInfo {
    pub registry: RegionCode,
    pub name: String,
    pub counselling_room: bool,
}

/// The indicators of one county or of the whole city.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorSet {
    /// `None` for the city-wide set when the counties lie in several cities (or none is known).
    pub region: Option<RegionCode>,
    pub name: String,
    pub burials: u32,
    pub eco_burials: u32,
    pub registries: u32,
    pub registries_with_counselling_room: u32,
}

impl IndicatorSet {
    /// `part / whole` in basis points (1/100 of a percent), rounded down; 0 for an empty whole.
    pub fn basis_points(part: u32, whole: u32) -> u32 {
        if whole == 0 {
            0
        } else {
            u32::try_from(u64::from(part) * 10_000 / u64::from(whole)).unwrap_or(10_000)
        }
    }

    pub fn eco_burial_rate_bp(&self) -> u32 {
        Self::basis_points(self.eco_burials, self.burials)
    }

    pub fn counselling_coverage_bp(&self) -> u32 {
        Self::basis_points(self.registries_with_counselling_room, self.registries)
    }
}

impl CivilRegistry {
    /// The registries (county-level divisions known from the place-names service) on `day`.
    pub async fn registries(&self, day: Date) -> Result<Vec<RegistryInfo>, Error> {
        let counties = self.counties(day).await?;
        let view = self.view.read().await;
        Ok(counties
            .into_iter()
            .map(|county| RegistryInfo {
                counselling_room: view.counselling_room_on(county.code, day),
                registry: county.code,
                name: county.name,
            })
            .collect())
    }

    /// The indicators per county and city-wide: burials from `from` to `to` (both included),
    /// counselling rooms on `to`.
    pub async fn indicators(
        &self,
        from: Date,
        to: Date,
    ) -> Result<(Vec<IndicatorSet>, IndicatorSet), Error> {
        let registries = self.registries(to).await?;
        let burials = self.view.read().await.burials(from, to);
        let mut counties: BTreeMap<RegionCode, IndicatorSet> = registries
            .into_iter()
            .map(|r| {
                (
                    r.registry,
                    IndicatorSet {
                        region: Some(r.registry),
                        name: r.name,
                        registries: 1,
                        registries_with_counselling_room: u32::from(r.counselling_room),
                        ..IndicatorSet::default()
                    },
                )
            })
            .collect();
        // Deaths recorded in a county no longer (or not yet) known still count.
        for (county, counted) in burials {
            let set = counties.entry(county).or_insert_with(|| IndicatorSet {
                region: Some(county),
                ..IndicatorSet::default()
            });
            set.burials = counted.total;
            set.eco_burials = counted.eco;
        }
        let mut city = IndicatorSet::default();
        for set in counties.values() {
            city.burials += set.burials;
            city.eco_burials += set.eco_burials;
            city.registries += set.registries;
            city.registries_with_counselling_room += set.registries_with_counselling_room;
        }
        let cities: Vec<RegionCode> = counties
            .keys()
            .filter_map(|c| c.ancestor_at(RegionLevel::City))
            .collect();
        if let Some(first) = cities.first()
            && cities.iter().all(|c| c == first)
        {
            city.region = Some(*first);
            city.name = self
                .cities(to)
                .await?
                .into_iter()
                .find(|c| c.code == *first)
                .map(|c| c.name)
                .unwrap_or_default();
        }
        Ok((counties.into_values().collect(), city))
    }

    async fn counties(&self, day: Date) -> Result<Vec<Division>, Error> {
        match &self.divisions {
            Some(divisions) => divisions.counties_on(day).await.map_err(database_error),
            None => Ok(Vec::new()),
        }
    }

    async fn cities(&self, day: Date) -> Result<Vec<Division>, Error> {
        match &self.divisions {
            Some(divisions) => divisions.cities_on(day).await.map_err(database_error),
            None => Ok(Vec::new()),
        }
    }

    /// Refuses a registry that is not a county-level division known on `day` (when the service
    /// follows the place-names service).
    pub(crate) async fn require_registry(
        &self,
        registry: RegionCode,
        day: Date,
    ) -> Result<(), Error> {
        let Some(divisions) = &self.divisions else {
            return Ok(());
        };
        let known = divisions
            .is_registry_on(registry, day)
            .await
            .map_err(database_error)?;
        if known {
            Ok(())
        } else {
            Err(Error::refused(
                "unknown_registry",
                format!("{registry} is not a county-level division with a registry on {day}"),
            ))
        }
    }
}

/// A failed query of the division table, classified as the store's own failures are: a database
/// that cannot be reached is UNAVAILABLE (the client retries later), anything else a bug.
fn database_error(error: sqlx::Error) -> Error {
    StoreError::from_sqlx(error).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_basis_points_rounded_down() {
        assert_eq!(IndicatorSet::basis_points(0, 0), 0);
        assert_eq!(IndicatorSet::basis_points(1, 3), 3_333);
        assert_eq!(IndicatorSet::basis_points(5, 5), 10_000);
        let set = IndicatorSet {
            burials: 20,
            eco_burials: 11,
            registries: 6,
            registries_with_counselling_room: 5,
            ..IndicatorSet::default()
        };
        assert_eq!(set.eco_burial_rate_bp(), 5_500);
        assert_eq!(set.counselling_coverage_bp(), 8_333);
    }
}
