//! Operating a deployment (issue 15, docs/operations.md): the log level of a running server and
//! agent changed over their admin sockets, a running server backed up and restored into a fresh
//! one that its agents keep syncing with, and the systemd units checked by systemd itself.

mod backup;
mod logger;
mod systemd;
