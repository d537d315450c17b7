//! The integration tests' support (`tests/tests/api/`): the harness and every helper more
//! than one test file uses, each defined once in [`support`].

pub mod support;
