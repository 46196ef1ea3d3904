//! The same behaviour scenarios as the in-process board, through the HTTP client against a
//! real server: the two implementations of `Api` cannot drift.

mod support;

mod scenarios {
    baton_core::conformance_tests!(super::support::TestServer::start());
}
