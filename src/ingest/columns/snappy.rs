//! Raw snappy blocks (the format's own framing-free form, as Parquet pages
//! hold them) decompressed into a page buffer.
//!
//! The `snap` crate decodes element by element, copying through memory.
//! On ascending 64-bit integers (sorted person ids, the commonest column a
//! register extract compresses badly) snappy makes one literal byte and a
//! 7-byte copy from 8 bytes back per value, and each copy reads the bytes
//! the previous two elements have just stored. A load across two recent
//! stores cannot be forwarded from them, so the processor waits for each
//! store to land: about 3 ns a value. `with_register` keeps the last 8
//! bytes written in a register as well: a copy from exactly 8 back is made
//! from it, and the pair above is recognised as one step, the last word
//! with its low byte replaced (3.2 times `snap`'s speed on such pages,
//! `cargo bench --bench codecs`).
//! Where such pairs are rare (shuffled ids) `snap` is faster, so
//! `decompress` looks at a block's first elements and hands it to one or
//! the other.
//!
//! Either way a block is accepted exactly when `snap` accepts it and
//! decompresses to the expected length, and gives the same bytes; the
//! tests and the `snappy` fuzz target hold the two side by side.

/// Bytes the buffer is grown by past the page, which the fast loop may
/// write over (never read as the page: the buffer is cut back at the end).
const SLACK: usize = 64;

/// Appends the raw snappy block `input`, which must decompress to exactly
/// `wanted` bytes, to `out`; `None` (and `out` at an unspecified length
/// from its old one) if the block is not valid snappy or not that long.
/// A copy may not reach back before the bytes this block makes.
pub fn decompress(input: &[u8], wanted: usize, out: &mut Vec<u8>) -> Option<()> {
    let (length, ip) = preamble(input)?;
    if length != wanted as u64 {
        return None;
    }
    if steps_ahead(input, ip) {
        return with_register(input, wanted, out);
    }
    let at = out.len();
    out.resize(at.checked_add(wanted)?, 0);
    let n = snap::raw::Decoder::new()
        .decompress(input, &mut out[at..])
        .ok()?;
    (n == wanted).then_some(())
}

/// Whether at least half of the block's first 32 elements (from `ip`)
/// are one-step pairs: then `with_register` decodes it, else `snap`,
/// which is faster where the pairs are rare (about 15% on shuffled ids,
/// whose copies reach far back and wait for nothing).
fn steps_ahead(input: &[u8], mut ip: usize) -> bool {
    let (mut pairs, mut elements) = (0, 0);
    while elements < 32 {
        let Some(&tag) = input.get(ip) else {
            break;
        };
        elements += 1;
        if tag == 0 && input.get(ip + 2..ip + 4) == Some(&[0x0D, 0x08][..]) {
            pairs += 1;
            ip += 4;
            continue;
        }
        ip = if tag & 3 == 0 {
            match literal(input, ip) {
                Some((_, to)) => to,
                None => break,
            }
        } else {
            ip + usize::from(COPIES[usize::from(tag)].size)
        };
    }
    elements > 0 && 2 * pairs >= elements
}

/// `decompress` with the last 8 bytes written kept in a register (see the
/// module's comment).
pub fn with_register(input: &[u8], wanted: usize, out: &mut Vec<u8>) -> Option<()> {
    let at = out.len();
    let (length, mut ip) = preamble(input)?;
    if length != wanted as u64 {
        return None;
    }
    let end = at.checked_add(wanted)?;
    out.resize(end.checked_add(SLACK)?, 0);
    let buf = &mut out[..];
    let mut op = at;
    // The 8 bytes before `op` as a little-endian word, while `known`
    // (bytes before `at` may be anything: no copy can reach them). Only
    // the runs of one-step pairs and copies from 8 back keep it; any other
    // element forgets it, and it is read back from the buffer when such a
    // run starts again.
    let mut tail = 0u64;
    let mut known = false;
    // While a tag and 16 more bytes can be read and an element of up to
    // 64 bytes written (the slack takes what passes `end`; a block whose
    // elements pass it is refused below).
    while ip + 17 <= input.len() && op <= end {
        let tag = input[ip];
        if tag & 3 == 0 {
            // A one-byte literal, then a copy of 7 bytes from 8 back.
            let head = u32::from_le_bytes(four(&input[ip..]));
            if head & 0xFFFF_00FF == 0x080D_0000 && op - at >= 7 {
                if !known {
                    tail = last_word(buf, op);
                    known = true;
                }
                tail = (tail & !0xff) | u64::from((head >> 8) & 0xff);
                buf[op..op + 8].copy_from_slice(&tail.to_le_bytes());
                ip += 4;
                op += 8;
                continue;
            }
            known = false;
            let len = usize::from(tag >> 2) + 1;
            if len <= 16 {
                buf[op..op + 16].copy_from_slice(&input[ip + 1..ip + 17]);
                ip += 1 + len;
                op += len;
            } else {
                let (from, to) = literal(input, ip)?;
                let len = to - from;
                if len > end - op {
                    return None;
                }
                buf[op..op + len].copy_from_slice(&input[from..to]);
                ip = to;
                op += len;
            }
            continue;
        }
        // A copy: its length, offset and size from the tag's entry, with
        // no branch on the kind (a `match` on it became a jump table whose
        // one indirect jump, taken after every literal, was mispredicted
        // on shuffled ids).
        let entry = COPIES[usize::from(tag)];
        let size = usize::from(entry.size);
        let len = usize::from(entry.len);
        let offset = (u32::from_le_bytes(four(&input[ip + 1..])) & entry.mask) as usize
            + usize::from(entry.high);
        ip += size;
        if offset == 0 || offset > op - at {
            return None;
        }
        if offset == 8 && len <= 16 {
            // From the register: the output repeats every 8 bytes.
            if !known {
                tail = last_word(buf, op);
                known = true;
            }
            buf[op..op + 8].copy_from_slice(&tail.to_le_bytes());
            buf[op + 8..op + 16].copy_from_slice(&tail.to_le_bytes());
            tail = tail.rotate_right(8 * (len as u32 % 8));
        } else {
            copy(buf, op, offset, len);
            known = false;
        }
        op += len;
    }
    // The last elements, every read and write checked.
    while ip < input.len() {
        let tag = input[ip];
        if tag & 3 == 0 {
            let (from, to) = literal(input, ip)?;
            let len = to - from;
            if op > end || len > end - op {
                return None;
            }
            buf[op..op + len].copy_from_slice(&input[from..to]);
            ip = to;
            op += len;
            continue;
        }
        // The offset bytes, as many as the tag says, little-endian.
        let entry = COPIES[usize::from(tag)];
        let size = usize::from(entry.size);
        let bytes = input.get(ip + 1..ip + size)?;
        let offset = bytes
            .iter()
            .rev()
            .fold(0usize, |v, &b| (v << 8) | usize::from(b))
            + usize::from(entry.high);
        let len = usize::from(entry.len);
        ip += size;
        if op > end || len > end - op || offset == 0 || offset > op - at {
            return None;
        }
        copy(buf, op, offset, len);
        op += len;
    }
    if op != end {
        return None;
    }
    out.truncate(end);
    Some(())
}

/// What a copy's tag says: its length, its size with the offset bytes,
/// which bits of the 4 bytes after the tag are the offset's and what its
/// tag adds to them.
#[derive(Clone, Copy)]
struct Copy {
    len: u8,
    size: u8,
    mask: u32,
    high: u16,
}

/// Every tag's `Copy` (literal tags unused).
const COPIES: [Copy; 256] = {
    let mut table = [Copy {
        len: 0,
        size: 1,
        mask: 0,
        high: 0,
    }; 256];
    let mut tag = 0;
    while tag < 256 {
        table[tag] = match tag & 3 {
            1 => Copy {
                len: 4 + ((tag >> 2) & 7) as u8,
                size: 2,
                mask: 0xff,
                high: ((tag >> 5) << 8) as u16,
            },
            2 => Copy {
                len: (tag >> 2) as u8 + 1,
                size: 3,
                mask: 0xffff,
                high: 0,
            },
            3 => Copy {
                len: (tag >> 2) as u8 + 1,
                size: 5,
                mask: u32::MAX,
                high: 0,
            },
            _ => table[tag],
        };
        tag += 1;
    }
    table
};

/// The block's declared length and where its elements start: a varint of
/// at most 5 bytes, as `snap` reads it.
fn preamble(input: &[u8]) -> Option<(u64, usize)> {
    let mut length = 0u64;
    for (k, &b) in input.iter().take(5).enumerate() {
        length |= u64::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            return Some((length, k + 1));
        }
    }
    None
}

/// Where the literal whose tag is at `ip` starts and ends in `input`, if
/// its length bytes and its bytes are there.
#[inline]
fn literal(input: &[u8], ip: usize) -> Option<(usize, usize)> {
    let code = usize::from(input[ip] >> 2);
    let (len, from) = if code < 60 {
        (code + 1, ip + 1)
    } else {
        let bytes = code - 59;
        let b = input.get(ip + 1..ip + 1 + bytes)?;
        let v = b
            .iter()
            .rev()
            .fold(0usize, |v, &x| (v << 8) | usize::from(x));
        (v.checked_add(1)?, ip + 1 + bytes)
    };
    let to = from.checked_add(len)?;
    (to <= input.len()).then_some((from, to))
}

/// Copies `len` bytes from `offset` (at least 1, at most `op`) back to
/// `op`, in order, so that a copy overlapping what it makes repeats it.
/// The fast path writes whole words past `len` where the buffer has room.
#[inline(always)]
fn copy(buf: &mut [u8], op: usize, offset: usize, len: usize) {
    let from = op - offset;
    if offset >= 8 && op + len + 8 <= buf.len() {
        let mut k = 0;
        while k < len {
            let v = word(&buf[from + k..]);
            buf[op + k..op + k + 8].copy_from_slice(&v.to_le_bytes());
            k += 8;
        }
    } else {
        for k in 0..len {
            buf[op + k] = buf[from + k];
        }
    }
}

/// The 8 bytes before `op` as a word (with fewer, what there is, at the
/// top).
#[inline(always)]
fn last_word(buf: &[u8], op: usize) -> u64 {
    if op >= 8 {
        word(&buf[op - 8..])
    } else {
        // `buf` holds at least `SLACK` bytes.
        word(buf) << (8 * (8 - op) % 64)
    }
}

/// The first 8 bytes of `b` as a little-endian word.
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    let mut w = [0; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The first 4 bytes of `b`.
#[inline(always)]
fn four(b: &[u8]) -> [u8; 4] {
    let mut w = [0; 4];
    w.copy_from_slice(&b[..4]);
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `snap` makes of `input` for a page of `wanted` bytes, as the
    /// reader asked it before: the bytes, or `None`.
    fn by_snap(input: &[u8], wanted: usize) -> Option<Vec<u8>> {
        let mut out = vec![0; wanted];
        let n = snap::raw::Decoder::new().decompress(input, &mut out).ok()?;
        (n == wanted).then_some(out)
    }

    /// This module's answer for the same, after `prefix` bytes already in
    /// the buffer (which must stay as they were).
    /// Both the register decoder and `decompress` (which may hand the
    /// block to `snap`), which must agree.
    fn by_us(input: &[u8], wanted: usize, prefix: &[u8]) -> Option<Vec<u8>> {
        let run = |f: fn(&[u8], usize, &mut Vec<u8>) -> Option<()>| {
            let mut out = prefix.to_vec();
            f(input, wanted, &mut out)?;
            assert_eq!(&out[..prefix.len()], prefix);
            assert_eq!(out.len(), prefix.len() + wanted);
            Some(out.split_off(prefix.len()))
        };
        let ours = run(with_register);
        assert_eq!(run(decompress), ours);
        ours
    }

    fn agree(input: &[u8], wanted: usize) {
        let expected = by_snap(input, wanted);
        for prefix in [&[][..], &[7u8; 3][..], &[9u8; 21][..]] {
            assert_eq!(
                by_us(input, wanted, prefix),
                expected,
                "{input:?} for {wanted}"
            );
        }
    }

    fn compress(data: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new().compress_vec(data).unwrap()
    }

    /// `n` 64-bit integers from `start` by `step`, little-endian.
    fn ascending(start: i64, step: i64, n: usize) -> Vec<u8> {
        (0..n as i64)
            .flat_map(|k| (start + k * step).to_le_bytes())
            .collect()
    }

    #[test]
    fn ascending_integers_take_the_one_step_path_and_match_snap() {
        for (start, step, n) in [
            (0, 1, 100_000),
            (1, 1, 7),
            (250, 1, 3_000),
            (-500, 1, 2_000),
            (1 << 40, 3, 10_000),
            (0, 256, 5_000),
            (i64::MAX - 1_000, 1, 1_000),
        ] {
            let data = ascending(start, step, n);
            let block = compress(&data);
            // Each value differs from the one before in one byte (but
            // where it carries), so snappy makes one-step pairs of them.
            let (_, first) = preamble(&block).unwrap();
            assert!(n < 1_000 || steps_ahead(&block, first), "{start} {step}");
            assert_eq!(by_us(&block, data.len(), &[]).as_deref(), Some(&data[..]));
            agree(&block, data.len());
        }
    }

    #[test]
    fn shuffled_integers_go_to_snap() {
        let mut x = 7u64;
        let data: Vec<u8> = (0..20_000u64)
            .flat_map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 6_000_000).to_le_bytes()
            })
            .collect();
        let block = compress(&data);
        let (_, first) = preamble(&block).unwrap();
        assert!(!steps_ahead(&block, first));
        assert_eq!(by_us(&block, data.len(), &[]).as_deref(), Some(&data[..]));
    }

    /// Hand-made blocks at the fast paths' edges.
    #[test]
    fn edges_of_the_fast_paths() {
        // 8 literal bytes, then one-byte literals each followed by a copy
        // of 7 from 8 back, enough of them for the fast loop, then a long
        // copy from 8 back (length 11) and copies from 1, 3 and 16 back.
        let mut block = vec![0u8; 0];
        let mut data = (1..=8u8).collect::<Vec<u8>>();
        block.push(7 << 2);
        block.extend_from_slice(&data);
        for k in 0..40u8 {
            block.extend_from_slice(&[0, 100 + k, 0x0D, 0x08]);
            let n = data.len();
            data.push(100 + k);
            data.extend_from_within(n - 7..n);
        }
        for (len, offset) in [(11usize, 8usize), (5, 1), (9, 3), (12, 16), (64, 200)] {
            if len <= 11 && offset < 2048 {
                block.push((((offset >> 8) as u8) << 5) | (((len - 4) as u8) << 2) | 1);
                block.push(offset as u8);
            } else {
                block.push((((len - 1) as u8) << 2) | 2);
                block.extend_from_slice(&(offset as u16).to_le_bytes());
            }
            for _ in 0..len {
                data.push(data[data.len() - offset]);
            }
        }
        let mut with_preamble = Vec::new();
        let mut n = data.len();
        while n >= 0x80 {
            with_preamble.push((n as u8) | 0x80);
            n >>= 7;
        }
        with_preamble.push(n as u8);
        with_preamble.extend_from_slice(&block);
        assert_eq!(
            by_us(&with_preamble, data.len(), &[]).as_deref(),
            Some(&data[..])
        );
        agree(&with_preamble, data.len());
        // The one-step pair as early as it may come (after 7 bytes) and
        // one byte too early, each followed by a literal of 16 so that
        // the fast loop takes it.
        let tail16: Vec<u8> = (40..56).collect();
        for first in [7u8, 6] {
            let mut block = vec![first + 8 + 16, (first - 1) << 2];
            block.extend(1..=first);
            block.extend_from_slice(&[0, 9, 0x0D, 0x08, 15 << 2]);
            block.extend_from_slice(&tail16);
            let expected = (first == 7).then(|| {
                let mut d: Vec<u8> = (1..=7).collect();
                d.push(9);
                d.extend(1..=7);
                d.extend_from_slice(&tail16);
                d
            });
            for prefix in [&[][..], &[1u8; 16][..]] {
                assert_eq!(by_us(&block, usize::from(first) + 24, prefix), expected);
            }
            agree(&block, usize::from(first) + 24);
        }
        // Each element truncated or the length wrong.
        for cut in 0..with_preamble.len() {
            agree(&with_preamble[..cut], data.len());
        }
        agree(&with_preamble, data.len() + 1);
        agree(&with_preamble, data.len() - 1);
        // Found by the fuzz target: a literal whose length code asks for
        // a length byte (so the long path) but whose length is 1.
        let short_long = [
            0xff, 0x00, 0xf4, 0x01, 0x00, 0x0d, 0x08, 0x0d, 0x00, 0x00, 0xfe, 0x00, 0xc2, 0x03,
            0x79, 0x41, 0xff, 0x00, 0x03,
        ];
        for wanted in 126..=128 {
            agree(&short_long, wanted);
        }
        agree(&[], 0);
        agree(&[0], 0);
        agree(&[0x80, 0x80, 0x80, 0x80, 0x80, 0], 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Random data of the kinds a page holds, compressed by `snap`,
        /// then some of its bytes changed: the same bytes or the same
        /// refusal as `snap`.
        #[test]
        fn agrees_with_snap(
            kind in 0..4u8,
            n in 0usize..3_000,
            seed in any::<u64>(),
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            wanted_delta in -2i64..3,
        ) {
            let mut x = seed | 1;
            let mut next = move || { x ^= x << 13; x ^= x >> 7; x ^= x << 17; x };
            let data: Vec<u8> = match kind {
                0 => (0..n).map(|_| next() as u8).collect(),
                1 => (0..n).map(|_| (next() % 3) as u8).collect(),
                2 => ascending((next() % 1000) as i64, 1 + (next() % 300) as i64, n / 8),
                _ => (0..n).map(|k| (k % (1 + (seed % 12) as usize)) as u8).collect(),
            };
            let mut block = compress(&data);
            if edits.is_empty() && wanted_delta == 0 {
                prop_assert_eq!(by_us(&block, data.len(), &[]), Some(data.clone()));
            }
            for (at, byte) in edits {
                let len = block.len();
                block[at % len] = byte;
            }
            let wanted = (data.len() as i64 + wanted_delta).max(0) as usize;
            let expected = by_snap(&block, wanted);
            prop_assert_eq!(by_us(&block, wanted, &[]), expected.clone());
            prop_assert_eq!(by_us(&block, wanted, &[5; 11]), expected);
        }
    }
}
