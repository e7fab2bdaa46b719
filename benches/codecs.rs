//! Snappy pages of 64-bit person ids, 131,072 to a page (a 1 MiB page, as
//! pyarrow and DuckDB write them), ascending and shuffled: the `snap`
//! crate, the engine's register decoder, and `decompress`, which chooses
//! between them by a block's first elements.
#![allow(clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fordeling::ingest::columns::snappy;
use std::hint::black_box;

const PER_PAGE: u64 = 131_072;
const PAGES: u64 = 8;

/// `PAGES` snappy pages of the ids `ids`, with their lengths.
fn pages(ids: &[u64]) -> Vec<(Vec<u8>, usize)> {
    ids.chunks(PER_PAGE as usize)
        .map(|c| {
            let raw: Vec<u8> = c.iter().flat_map(|v| v.to_le_bytes()).collect();
            let block = snap::raw::Encoder::new()
                .compress_vec(&raw)
                .expect("compress");
            (block, raw.len())
        })
        .collect()
}

fn codecs(c: &mut Criterion) {
    let n = PER_PAGE * PAGES;
    let ascending: Vec<u64> = (1..=n).collect();
    let mut shuffled = ascending.clone();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..shuffled.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        shuffled.swap(i, (x % (i as u64 + 1)) as usize);
    }
    let mut group = c.benchmark_group("snappy_ids");
    group.throughput(Throughput::Bytes(n * 8));
    for (name, ids) in [("ascending", &ascending), ("shuffled", &shuffled)] {
        let pages = pages(ids);
        group.bench_function(format!("{name}/snap"), |b| {
            let mut out = vec![0u8; (PER_PAGE * 8) as usize];
            b.iter(|| {
                for (block, len) in &pages {
                    let n = snap::raw::Decoder::new()
                        .decompress(block, &mut out[..*len])
                        .expect("snappy");
                    black_box(n);
                }
            })
        });
        type Decoder = fn(&[u8], usize, &mut Vec<u8>) -> Option<()>;
        let ours: [(&str, Decoder); 2] = [
            ("with_register", snappy::with_register),
            ("decompress", snappy::decompress),
        ];
        for (label, f) in ours {
            group.bench_function(format!("{name}/{label}"), |b| {
                let mut out = Vec::with_capacity((PER_PAGE * 8) as usize + 64);
                b.iter(|| {
                    for (block, len) in &pages {
                        out.clear();
                        f(block, *len, &mut out).expect("snappy");
                        black_box(&out);
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, codecs);
criterion_main!(benches);
