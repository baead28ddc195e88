//! Issue 14: an attested agent, or whoever holds a join token, against a real server. Each test
//! asserts the exact status code the server answers with.

mod bounds;
mod large_node;
mod recheck;
mod reserved;
mod taint;
