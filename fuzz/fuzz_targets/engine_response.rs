//! Any bytes as the Docker engine's HTTP/1.1 response on its socket: the head and the body's
//! framing (length, chunked, close) must give a status and body or an error, never panic or
//! loop.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kasane_remote::read_engine_response(data);
});
