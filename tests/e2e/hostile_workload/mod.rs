//! Issue 13: a hostile local user against a real agent's Workload API socket. Every test runs
//! an attack through a real process and asserts both that the attack failed and that a
//! legitimate client was served while it ran.

mod jwt_bounds;
