//! Any bytes as a raw snappy page: the engine's decompressor, and its
//! register decoder on every block (not only those it would choose it
//! for), give the bytes `snap` gives, or refuse where `snap` refuses,
//! never a panic; with and without bytes already in the buffer, which no
//! copy may reach.
#![no_main]
use fordeling::ingest::columns::snappy::{decompress, with_register};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes choose the page's expected length relative to
    // the block's own (so that most inputs ask for the length they
    // declare) and the bytes before it.
    let Some((&[delta, prefix], block)) = data.split_first_chunk::<2>() else {
        return;
    };
    let declared = snap::raw::decompress_len(block).unwrap_or(0).min(1 << 20);
    let wanted = (declared + usize::from(delta & 3)).saturating_sub(1);
    let by_snap = {
        let mut out = vec![0; wanted];
        match snap::raw::Decoder::new().decompress(block, &mut out) {
            Ok(n) if n == wanted => Some(out),
            _ => None,
        }
    };
    for f in [decompress, with_register] {
        let mut out = vec![prefix; usize::from(prefix % 24)];
        let before = out.len();
        let ours = f(block, wanted, &mut out).map(|()| {
            assert!(out[..before].iter().all(|&b| b == prefix));
            out.split_off(before)
        });
        assert_eq!(ours, by_snap);
    }
});
