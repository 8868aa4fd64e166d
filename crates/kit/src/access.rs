//! Access policy: for each RPC of a service, who may call it, within which region scope, and
//! whether it reads personal data. A service declares its policy once, as a table
//! ([`AccessPolicy`]); the edge (`minzheng_host::edge`) admits or refuses every call by it
//! before the handler runs, makes the handler check the scope the table names, and records an
//! audit event for every call of an RPC that reads personal data. The same table renders the
//! access matrix in the service's docs ([`AccessPolicy::matrix`]) and drives the test that calls
//! every RPC with every role.
//!
//! One meaning of scope, whatever the role: a principal acts only within its regions (token
//! claim `regions`), never outside them. An RPC scoped by a region ([`Scope::Field`],
//! [`Scope::Record`]) is allowed when one of the caller's regions contains that region; an
//! RPC that must work across regions says so ([`Scope::Anywhere`]), and the table shows it.
//!
//! This module knows no service: method names and fields are the caller's strings.

use std::fmt::Write as _;

use minzheng_types::{RegionCode, RegionLevel};

use crate::{
    Error,
    auth::{Principal, Role},
};

/// Where a call may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere the roles allow: no region check.
    Anywhere,
    /// In the region a request field names (the field's path, e.g. `registry`).
    Field(&'static str),
    /// In the region of the record the call addresses, known once the record is read (what it
    /// is, e.g. `the marriage's registry`).
    Record(&'static str),
}

/// Who may call one RPC. Built with const functions, so a policy is a `const` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Empty for a public RPC, which needs no token.
    roles: &'static [Role],
    scope: Scope,
    /// The level the caller's containing region must have at least (county: a county or a
    /// wider region), for decisions a township's staff may not take.
    scope_level: Option<RegionLevel>,
    personal_data: bool,
}

impl Rule {
    /// Anyone, with or without a token.
    pub const fn public() -> Self {
        Self {
            roles: &[],
            scope: Scope::Anywhere,
            scope_level: None,
            personal_data: false,
        }
    }

    /// A principal with one of `roles` (not empty), anywhere.
    pub const fn roles(roles: &'static [Role]) -> Self {
        assert!(
            !roles.is_empty(),
            "a rule names at least one role; use public()"
        );
        Self {
            roles,
            scope: Scope::Anywhere,
            scope_level: None,
            personal_data: false,
        }
    }

    /// Only within the region the request field `field` names.
    pub const fn in_field(mut self, field: &'static str) -> Self {
        self.scope = Scope::Field(field);
        self
    }

    /// Only within the region of the record the call addresses (`what` says which region).
    pub const fn in_record(mut self, what: &'static str) -> Self {
        self.scope = Scope::Record(what);
        self
    }

    /// The caller's containing region must be at `level` or wider.
    pub const fn scope_at_least(mut self, level: RegionLevel) -> Self {
        self.scope_level = Some(level);
        self
    }

    /// The call returns personal data: every call is audited.
    pub const fn reads_personal_data(mut self) -> Self {
        self.personal_data = true;
        self
    }

    pub fn is_public(&self) -> bool {
        self.roles.is_empty()
    }

    pub fn roles_allowed(&self) -> &'static [Role] {
        self.roles
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    pub fn reads_personal(&self) -> bool {
        self.personal_data
    }

    /// Whether the handler must check a region.
    pub fn is_scoped(&self) -> bool {
        self.scope != Scope::Anywhere
    }

    /// Admits a call before its handler runs: UNAUTHENTICATED without a token (unless public),
    /// PERMISSION_DENIED without one of the roles.
    pub fn admit(&self, principal: Option<&Principal>) -> Result<(), Error> {
        if self.is_public() {
            return Ok(());
        }
        let principal = principal
            .ok_or_else(|| Error::Unauthenticated("this call needs a bearer token".to_owned()))?;
        principal.require_any_role(self.roles).map(drop)
    }

    /// PERMISSION_DENIED unless `region` lies within one of the principal's regions (of the
    /// level the rule asks for). A public rule has no principal to check: a call without a
    /// token is refused with UNAUTHENTICATED.
    pub fn check_region(
        &self,
        principal: Option<&Principal>,
        region: RegionCode,
    ) -> Result<(), Error> {
        let principal = principal
            .ok_or_else(|| Error::Unauthenticated("this call needs a bearer token".to_owned()))?;
        let covered = principal.regions().iter().any(|scope| {
            scope.contains(region) && self.scope_level.is_none_or(|level| scope.level() <= level)
        });
        match (covered, self.scope_level) {
            (true, _) => Ok(()),
            (false, None) => Err(Error::PermissionDenied(format!(
                "not authorized for region {region}"
            ))),
            (false, Some(level)) => Err(Error::PermissionDenied(format!(
                "needs a scope at {} level or above that contains {region}",
                level_name(level)
            ))),
        }
    }
}

fn level_name(level: RegionLevel) -> &'static str {
    match level {
        RegionLevel::Province => "province",
        RegionLevel::City => "city",
        RegionLevel::County => "county",
        RegionLevel::Township => "township",
        RegionLevel::Village => "village",
    }
}

/// One RPC's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpcAccess {
    /// The proto method name, e.g. `GetMaritalStatus`.
    pub method: &'static str,
    pub rule: Rule,
}

/// A service's access policy: one rule per RPC.
#[derive(Debug, Clone, Copy)]
pub struct AccessPolicy {
    /// The full gRPC service name, e.g. `minzheng.civilregistry.v1.CivilRegistryService`.
    pub service: &'static str,
    pub rpcs: &'static [RpcAccess],
}

impl AccessPolicy {
    /// The rule of `method` (its proto name).
    pub fn rpc(&self, method: &str) -> Option<&'static RpcAccess> {
        self.rpcs.iter().find(|rpc| rpc.method == method)
    }

    /// The access matrix as a Markdown table: one row per RPC, a column per role, then the
    /// scope and whether the call reads personal data (and so is audited).
    pub fn matrix(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| RPC | {} | scope | personal data (audited) |",
            Role::ALL.map(Role::as_str).join(" | ")
        );
        let _ = writeln!(out, "|---|{}---|---|", "---|".repeat(Role::ALL.len()));
        for rpc in self.rpcs {
            let rule = rpc.rule;
            let roles = Role::ALL.map(|role| {
                if rule.is_public() {
                    "public"
                } else if rule.roles.contains(&role) {
                    "✓"
                } else {
                    ""
                }
            });
            let mut scope = match rule.scope {
                Scope::Anywhere => "anywhere".to_owned(),
                Scope::Field(field) => format!("region of `{field}`"),
                Scope::Record(what) => format!("region of {what}"),
            };
            if let Some(level) = rule.scope_level {
                let _ = write!(scope, ", {} or wider", level_name(level));
            }
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                rpc.method,
                roles.join(" | "),
                scope,
                if rule.personal_data { "yes" } else { "" }
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAFF: &[Role] = &[Role::Caseworker, Role::Approver];

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).expect("valid code")
    }

    fn principal(roles: &[Role], regions: &[&str]) -> Principal {
        Principal::new("t", roles.iter().copied(), regions.iter().map(|r| code(r)))
    }

    #[test]
    fn admission_asks_for_a_token_then_a_role() {
        let rule = Rule::roles(STAFF);
        assert!(matches!(rule.admit(None), Err(Error::Unauthenticated(_))));
        let auditor = principal(&[Role::Auditor], &["210500000000"]);
        assert!(matches!(
            rule.admit(Some(&auditor)),
            Err(Error::PermissionDenied(_))
        ));
        let caseworker = principal(&[Role::Caseworker], &[]);
        assert!(rule.admit(Some(&caseworker)).is_ok());
        assert!(Rule::public().admit(None).is_ok());
    }

    #[test]
    fn scope_has_one_meaning_for_every_role() {
        let rule = Rule::roles(&[Role::Agency, Role::Caseworker]).in_field("registry");
        let county = code("210502000000");
        for role in [Role::Agency, Role::Caseworker] {
            let inside = principal(&[role], &["210500000000"]);
            assert!(rule.check_region(Some(&inside), county).is_ok());
            let elsewhere = principal(&[role], &["210600000000"]);
            assert!(matches!(
                rule.check_region(Some(&elsewhere), county),
                Err(Error::PermissionDenied(_))
            ));
            let nowhere = principal(&[role], &[]);
            assert!(rule.check_region(Some(&nowhere), county).is_err());
        }
    }

    #[test]
    fn a_level_bound_scope_needs_a_wide_enough_region() {
        let rule = Rule::roles(&[Role::Approver])
            .in_field("code")
            .scope_at_least(RegionLevel::County);
        let village_town = code("210522102000");
        let township = principal(&[Role::Approver], &["210522102000"]);
        let error = rule
            .check_region(Some(&township), village_town)
            .expect_err("a township scope is too narrow");
        assert!(error.to_string().contains("county level"), "{error}");
        let county = principal(&[Role::Approver], &["210522000000"]);
        assert!(rule.check_region(Some(&county), village_town).is_ok());
    }

    #[test]
    fn the_matrix_has_a_row_per_rpc_and_a_column_per_role() {
        const POLICY: AccessPolicy = AccessPolicy {
            service: "minzheng.x.v1.XService",
            rpcs: &[
                RpcAccess {
                    method: "GetThing",
                    rule: Rule::public(),
                },
                RpcAccess {
                    method: "ReadPerson",
                    rule: Rule::roles(STAFF)
                        .in_record("the person's township")
                        .reads_personal_data(),
                },
            ],
        };
        let matrix = POLICY.matrix();
        let lines: Vec<&str> = matrix.lines().collect();
        assert_eq!(lines.len(), 4, "{matrix}");
        assert!(
            lines[0].contains("| caseworker | approver | auditor | operator | agency | citizen |")
        );
        assert!(lines[2].starts_with("| `GetThing` | public |"), "{matrix}");
        assert_eq!(
            lines[3],
            "| `ReadPerson` | ✓ | ✓ |  |  |  |  | region of the person's township | yes |"
        );
        assert_eq!(
            POLICY.rpc("ReadPerson").map(|r| r.method),
            Some("ReadPerson")
        );
        assert!(POLICY.rpc("Nope").is_none());
    }
}
