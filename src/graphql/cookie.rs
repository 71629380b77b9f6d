//! The session cookie: how the transport authenticates as the Stash session that started us.

/// The session cookie Stash hands its plugins; it authenticates us and carries hook-loop depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Cookie name (`session`).
    pub name: String,
    /// Cookie value.
    pub value: String,
}
