//! Issue 21 (see the parent module); cases are added here.
