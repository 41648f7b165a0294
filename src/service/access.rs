//! Admission: every service method asks here before touching Docker, and
//! here the policy decides ([`crate::policy::Policy::decide`]) — the one
//! hook where a decision can also be recorded.
//!
//! A container reference (full id, id prefix or name) is resolved as Docker
//! would resolve it if only the containers in scope existed: a name or
//! prefix that Docker resolves to an out-of-scope container, or finds
//! ambiguous because of one, is resolved again among the containers in
//! scope. So an out-of-scope container changes no answer, not even which
//! container a prefix means. The operation then acts on the resolved full
//! id, so a name cannot be moved to another container between the check
//! and the action.

use super::Service;
use crate::audit::{Action, Record};
use crate::docker::models::{ContainerInspect, ListedContainer};
use crate::error::Error;
use crate::policy::{Caller, Decision, Facts, Labels, Op, Sight};
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn labels(l: Option<&BTreeMap<String, String>>) -> &dyn Labels {
    match l {
        Some(l) => l,
        None => &(),
    }
}

/// What the policy sees of an inspected container.
pub fn facts(c: &ContainerInspect) -> Facts<'_> {
    Facts {
        id: &c.id,
        name: c.name.trim_start_matches('/'),
        labels: labels(c.config.labels.as_ref()),
    }
}

/// What the policy sees of a container in Docker's list.
pub fn summary_facts(c: &ListedContainer) -> Facts<'_> {
    Facts {
        id: &c.id,
        name: c.names.first().map_or("", |n| n.trim_start_matches('/')),
        labels: labels(c.labels.as_ref()),
    }
}

/// An audit record of `caller` doing `op` (on `container`).
pub(super) fn record(caller: &Caller, op: Op, container: Option<Facts>) -> Record {
    let r = Record::new(
        caller.context.as_ref(),
        caller.surface,
        Action::Op(op.action),
        caller.subject(),
    );
    match container {
        Some(c) => r.container(c.id, Some(c.name)),
        None => r,
    }
}

impl Service {
    /// May `caller` do `op`, which names no container? Else the refusal.
    pub fn permit(&self, caller: &Caller, op: Op) -> Result<(), Error> {
        let decision = self.policy.decide(caller, op, None);
        self.recorded(&decision, decision.check(""))
    }

    /// May `caller` do `op` to the image `reference`? The policy's decision,
    /// then `IMAGE_ALLOW`; a refusal is recorded with the image.
    pub(super) fn permit_image(
        &self,
        caller: &Caller,
        op: Op,
        reference: &str,
    ) -> Result<(), Error> {
        let decision = self.policy.decide(caller, op, None);
        let checked = decision
            .check("")
            .and_then(|()| self.policy.check_image(reference));
        if let Err(e) = &checked {
            self.audit
                .record(record(caller, op, None).image(reference).refusal(e));
        }
        checked
    }

    /// Whether `caller` may do `op` at all, with a person's yes where its
    /// credential needs one (MCP lists only the tools a caller may call).
    pub fn may(&self, caller: &Caller, op: Op) -> bool {
        self.policy.decide(caller, op, None).allowed_if_confirmed()
    }

    /// Resolves `reference` within the scope and asks whether `caller` may
    /// `op` it: the container, or the refusal (404 when out of scope).
    pub async fn admit(
        &self,
        caller: &Caller,
        op: Op,
        reference: &str,
    ) -> Result<ContainerInspect, Error> {
        let c = self.find(caller, op, reference).await?;
        let decision = self.policy.decide(caller, op, Some(facts(&c)));
        self.recorded(&decision, decision.check(reference))?;
        Ok(c)
    }

    /// The full id and name of the container `reference` means, if
    /// `caller` may `op` it once a person says yes (else the refusal,
    /// recorded): what a confirmation asks about, before anything is asked.
    pub async fn target(
        &self,
        caller: &Caller,
        op: Op,
        reference: &str,
    ) -> Result<(String, String), Error> {
        let c = self.find(caller, op, reference).await?;
        let decision = self.policy.decide(caller, op, Some(facts(&c)));
        if !decision.allowed_if_confirmed() {
            self.recorded(&decision, decision.check(reference))?;
        }
        let name = facts(&c).name.to_string();
        Ok((c.id, name))
    }

    /// `checked`, with a refusal recorded in the audit trail.
    fn recorded(&self, decision: &Decision, checked: Result<(), Error>) -> Result<(), Error> {
        if let Err(e) = &checked {
            self.audit
                .record(record(decision.caller, decision.op, decision.container).refusal(e));
        }
        checked
    }

    /// Records the outcome of `op` on `c`, an action that changes it.
    pub(super) fn record_action<T>(
        &self,
        caller: &Caller,
        op: Op,
        c: &ContainerInspect,
        result: &Result<T, Error>,
    ) {
        self.audit
            .record(record(caller, op, Some(facts(c))).outcome(result));
    }

    /// Records the outcome of a create or removal: the container as
    /// `(id, name)` (either may be empty) and the image.
    pub(super) fn record_lifecycle<T>(
        &self,
        caller: &Caller,
        op: Op,
        (id, name): (&str, &str),
        image: &str,
        result: &Result<T, Error>,
    ) {
        let mut r = record(caller, op, None).image(image);
        if !id.is_empty() || !name.is_empty() {
            r = r.container(id, Some(name).filter(|n| !n.is_empty()));
        }
        self.audit.record(r.outcome(result));
    }

    /// The container `reference` means among those in scope. When it
    /// means an out-of-scope one and nothing in scope, the refusal is
    /// recorded (the caller is told "not found", as for a missing one).
    async fn find(
        &self,
        caller: &Caller,
        op: Op,
        reference: &str,
    ) -> Result<ContainerInspect, Error> {
        let found = self.inspect(reference).await;
        if !self.policy.scoped() {
            return found;
        }
        match found {
            Ok(c) if self.policy.sees(facts(&c)) => Ok(c),
            Ok(hidden) => {
                let in_scope = self.find_by_prefix(reference).await;
                if in_scope.is_err() {
                    let decision = self.policy.decide(caller, op, Some(facts(&hidden)));
                    let _ = self.recorded(&decision, decision.check(reference));
                }
                in_scope
            }
            Err(Error::AmbiguousContainer(_)) => self.find_by_prefix(reference).await,
            Err(e) => Err(e),
        }
    }

    /// The one container in scope whose id starts with `reference`.
    async fn find_by_prefix(&self, reference: &str) -> Result<ContainerInspect, Error> {
        let all = self.all_containers().await?;
        let mut hits = all
            .iter()
            .filter(|c| c.id.starts_with(reference) && self.policy.sees(summary_facts(c)));
        let only = match (hits.next(), hits.next()) {
            (Some(c), None) => c,
            (None, _) => return Err(Error::ContainerNotFound(reference.to_string())),
            (Some(_), Some(_)) => return Err(Error::AmbiguousContainer(reference.to_string())),
        };
        match self.inspect(&only.id).await {
            Err(Error::ContainerNotFound(_)) => {
                Err(Error::ContainerNotFound(reference.to_string()))
            }
            other => other,
        }
    }

    /// Every container Docker has, running or not (with names and labels).
    pub(super) async fn all_containers(&self) -> Result<Vec<ListedContainer>, Error> {
        Ok(self.docker.containers(true, None).await?)
    }

    /// Whether an event may be shown under the scope; one that names a
    /// container without describing it is shown only while that container
    /// exists and is in scope.
    pub async fn shows_event(&self, event: &Value) -> bool {
        match self.policy.sight(event) {
            Sight::Shown => true,
            Sight::Hidden => false,
            Sight::Ask(id) => self
                .inspect(&id)
                .await
                .is_ok_and(|c| self.policy.sees(facts(&c))),
        }
    }
}
