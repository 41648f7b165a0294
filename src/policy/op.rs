//! What the policy knows of an operation: its name (as refusals say it),
//! its audit action, the least role it needs, and what it does that the
//! policy cares about. Each operation of the catalogue defines its own
//! [`Op`]; the policy decides on these properties, never on which
//! operation it is, so a new operation needs nothing here.

use super::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    /// As refusals name it (`'stop' is refused`).
    pub name: &'static str,
    /// As the audit trail names it (`container.stop`).
    pub action: &'static str,
    /// The least role allowed to do it.
    pub needs: Role,
    /// It changes something: refused in read-only mode and to read-only
    /// credentials, and confirmed under `confirm=actions`.
    pub mutates: bool,
    /// It would take the agent's own container down, freeze it or reach
    /// into it: refused there.
    pub interrupts: bool,
    /// It removes something or runs a command: confirmed under
    /// `confirm=destructive`.
    pub destructive: bool,
    /// It runs a command in a container: only with `EXEC_ENABLED`.
    pub runs_commands: bool,
    /// It starts a container's processes (start, restart, unpause): the
    /// container's host paths are judged again first.
    pub starts: bool,
}

impl Op {
    /// An operation that only reads, open to every role.
    pub const fn read(name: &'static str, action: &'static str) -> Op {
        Op {
            name,
            action,
            needs: Role::Read,
            mutates: false,
            interrupts: false,
            destructive: false,
            runs_commands: false,
            starts: false,
        }
    }

    /// A change to a container, from the `operate` role.
    pub const fn operate(name: &'static str, action: &'static str) -> Op {
        Op {
            needs: Role::Operate,
            mutates: true,
            ..Op::read(name, action)
        }
    }

    /// A change only `admin` may make (pulling, creating, removing).
    pub const fn admin(name: &'static str, action: &'static str) -> Op {
        Op {
            needs: Role::Admin,
            ..Op::operate(name, action)
        }
    }

    /// The same, refused on the agent's own container.
    pub const fn interrupting(self) -> Op {
        Op {
            interrupts: true,
            ..self
        }
    }

    /// The same, starting the container's processes.
    pub const fn starting(self) -> Op {
        Op {
            starts: true,
            ..self
        }
    }

    /// The same, confirmed under `confirm=destructive`.
    pub const fn destructive(self) -> Op {
        Op {
            destructive: true,
            ..self
        }
    }

    /// The same, running a command: `admin`, `EXEC_ENABLED`, destructive,
    /// and refused on the agent's own container.
    pub const fn running_commands(self) -> Op {
        Op {
            needs: Role::Admin,
            runs_commands: true,
            ..self.interrupting().destructive()
        }
    }
}
