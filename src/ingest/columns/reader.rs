//! The page-level path's own reader of a column chunk's pages: headers
//! walked in place (`read_header`, the walk that guards the crate's
//! reader), pages decompressed with per-thread codec state that is reused
//! across pages and chunks (a zstd context, an inflate state) into a
//! per-thread buffer, and handed out as borrowed slices, so no page makes
//! a codec or an allocation. Anything it does not take — a page type,
//! codec or encoding it does not know, a header or body that does not
//! check — is `None`, and the general path (the `parquet` crate's reader)
//! takes the chunk and words the error, so both paths accept the same
//! files.

use super::chunk::{read_header, HeaderFields, Schema};
use parquet::basic::{Compression, Encoding};
use std::cell::RefCell;

/// One page of a chunk, its values (and levels) decompressed.
pub(super) enum RawPage<'a> {
    Dictionary {
        buf: &'a [u8],
        num_values: usize,
        encoding: Option<Encoding>,
    },
    V1 {
        buf: &'a [u8],
        num_values: usize,
        encoding: Option<Encoding>,
        def_level_encoding: Option<Encoding>,
    },
    V2 {
        /// Repetition and definition levels, then the values.
        buf: &'a [u8],
        num_values: usize,
        encoding: Option<Encoding>,
        num_nulls: usize,
        def_levels_byte_len: usize,
        rep_levels_byte_len: usize,
    },
}

/// The encodings the page path decodes; `None` for the others.
fn encoding(code: i32) -> Option<Encoding> {
    match code {
        0 => Some(Encoding::PLAIN),
        2 => Some(Encoding::PLAIN_DICTIONARY),
        3 => Some(Encoding::RLE),
        5 => Some(Encoding::DELTA_BINARY_PACKED),
        8 => Some(Encoding::RLE_DICTIONARY),
        _ => None,
    }
}

/// Codec state kept by each thread for the life of the process.
#[derive(Default)]
struct Codecs {
    zstd: Option<zstd::bulk::Decompressor<'static>>,
    inflate: Option<flate2::Decompress>,
    /// Where pages are decompressed; taken by a `ChunkPages` while it reads.
    buffer: Vec<u8>,
}

thread_local! {
    static CODECS: RefCell<Codecs> = RefCell::new(Codecs::default());
}

/// The pages of one column chunk (its bytes in memory), in order.
pub(super) struct ChunkPages<'a> {
    bytes: &'a [u8],
    at: usize,
    codec: Compression,
    buffer: Vec<u8>,
}

impl<'a> ChunkPages<'a> {
    pub(super) fn new(bytes: &'a [u8], codec: Compression) -> ChunkPages<'a> {
        let buffer = CODECS.with(|c| std::mem::take(&mut c.borrow_mut().buffer));
        ChunkPages {
            bytes,
            at: 0,
            codec,
            buffer,
        }
    }

    /// The next page: `Some(None)` at the end of the chunk, `None` when the
    /// page reader does not take the chunk. Index pages are passed over,
    /// as the crate does.
    pub(super) fn next_page(&mut self) -> Option<Option<RawPage<'_>>> {
        loop {
            if self.at == self.bytes.len() {
                return Some(None);
            }
            let (fields, length) = read_header(&self.bytes[self.at..])?;
            let start = self.at.checked_add(length)?;
            let size = usize::try_from(fields.int(Schema::PageHeader, 3)??).ok()?;
            let end = start.checked_add(size).filter(|&e| e <= self.bytes.len())?;
            self.at = end;
            let kind = fields.int(Schema::PageHeader, 1)??;
            if kind == 1 {
                continue;
            }
            let body = &self.bytes[start..end];
            let uncompressed = usize::try_from(fields.int(Schema::PageHeader, 2)??).ok()?;
            if !fits(self.codec, size, uncompressed) {
                return None;
            }
            return self.page(kind, &fields, body, uncompressed).map(Some);
        }
    }

    fn page<'s>(
        &'s mut self,
        kind: i32,
        fields: &HeaderFields,
        body: &'s [u8],
        uncompressed: usize,
    ) -> Option<RawPage<'s>> {
        let count = |schema, id| usize::try_from(fields.int(schema, id)??).ok();
        let code = |schema, id| fields.int(schema, id).flatten();
        // Each page type's own header must be there. The crate takes a v2
        // header's level lengths and compression flag for a page of any
        // type; such odd pages are left to it.
        let own = match kind {
            0 => Schema::DataPage,
            2 => Schema::Dictionary,
            3 => Schema::DataPageV2,
            _ => return None,
        };
        if !fields.has(own) || (kind != 3 && fields.has(Schema::DataPageV2)) {
            return None;
        }
        match kind {
            // DICTIONARY_PAGE
            2 => {
                let num_values = count(Schema::Dictionary, 1)?;
                let encoding = encoding(code(Schema::Dictionary, 2)?);
                let buf = self.decompressed(body, 0, uncompressed)?;
                Some(RawPage::Dictionary {
                    buf,
                    num_values,
                    encoding,
                })
            }
            // DATA_PAGE
            0 => {
                let num_values = count(Schema::DataPage, 1)?;
                let encoding = encoding(code(Schema::DataPage, 2)?);
                let def_level_encoding = code(Schema::DataPage, 3)?;
                code(Schema::DataPage, 4)?;
                let buf = self.decompressed(body, 0, uncompressed)?;
                Some(RawPage::V1 {
                    buf,
                    num_values,
                    encoding,
                    def_level_encoding: self::encoding(def_level_encoding),
                })
            }
            // DATA_PAGE_V2
            3 => {
                let num_values = count(Schema::DataPageV2, 1)?;
                let num_nulls = count(Schema::DataPageV2, 2)?;
                count(Schema::DataPageV2, 3)?;
                let encoding = encoding(code(Schema::DataPageV2, 4)?);
                let def = count(Schema::DataPageV2, 5)?;
                let rep = count(Schema::DataPageV2, 6)?;
                let levels = def.checked_add(rep).filter(|&l| l <= uncompressed)?;
                let compressed = fields
                    .int(Schema::DataPageV2, 7)?
                    .is_none_or(|flag| flag != 0);
                let buf = if compressed {
                    self.decompressed(body, levels, uncompressed)?
                } else {
                    body
                };
                Some(RawPage::V2 {
                    buf,
                    num_values,
                    encoding,
                    num_nulls,
                    def_levels_byte_len: def,
                    rep_levels_byte_len: rep,
                })
            }
            _ => None,
        }
    }

    /// `body` as stored, or decompressed: its first `offset` bytes (the
    /// levels of a v2 page) as they are, the rest decompressed to make
    /// `uncompressed` bytes in all, as the crate requires.
    fn decompressed<'s>(
        &'s mut self,
        body: &'s [u8],
        offset: usize,
        uncompressed: usize,
    ) -> Option<&'s [u8]> {
        if self.codec == Compression::UNCOMPRESSED {
            return Some(body);
        }
        let levels = body.get(..offset)?;
        let out = &mut self.buffer;
        out.clear();
        out.reserve(uncompressed);
        out.extend_from_slice(levels);
        let wanted = uncompressed - offset;
        if wanted > 0 {
            decompress(self.codec, &body[offset..], wanted, out)?;
        }
        (out.len() == uncompressed).then_some(&out[..])
    }
}

/// The most bytes `codec` can make of `compressed` bytes, with room to
/// spare (from each format's largest expansion of one input byte: snappy
/// about 21 (a 3-byte copy of 64 bytes), LZ4 about 255 (each extra length
/// byte), deflate 1032, zstd 32,768 (a 4-byte RLE block of 128 KiB));
/// `None` for no codec (nothing is sized by an uncompressed page's
/// declared size) and a codec without a known bound. A page header that declares
/// more uncompressed bytes than this cannot be right, and is refused
/// before a buffer of that size is made and zeroed.
fn most_made(codec: Compression, compressed: usize) -> Option<u64> {
    let ratio: u64 = match codec {
        Compression::SNAPPY => 32,
        Compression::LZ4 | Compression::LZ4_RAW => 256,
        Compression::GZIP(_) => 1040,
        Compression::ZSTD(_) => 32_768,
        _ => return None,
    };
    Some(
        (compressed as u64)
            .saturating_mul(ratio)
            .saturating_add(1024),
    )
}

/// A codec's name for messages.
pub(super) fn codec_name(codec: Compression) -> &'static str {
    match codec {
        Compression::UNCOMPRESSED => "no codec",
        Compression::SNAPPY => "snappy",
        Compression::GZIP(_) => "gzip",
        Compression::LZO => "LZO",
        Compression::BROTLI(_) => "brotli",
        Compression::LZ4 => "LZ4",
        Compression::ZSTD(_) => "zstd",
        Compression::LZ4_RAW => "LZ4 (raw)",
    }
}

/// Whether a page of `compressed` bytes under `codec` can make the
/// `uncompressed` bytes its header declares.
fn fits(codec: Compression, compressed: usize, uncompressed: usize) -> bool {
    most_made(codec, compressed).is_none_or(|most| uncompressed as u64 <= most)
}

/// The first page of a column chunk whose header declares more
/// uncompressed bytes than its compressed bytes can make under `codec`,
/// as (page number from 0, compressed, declared); the walk stops quietly
/// at a header it cannot read, which the decoders word. The `parquet`
/// crate sizes (and for snappy and LZ4 zeroes) its buffer by the declared
/// size before decompressing, up to 2 GiB a page.
pub(super) fn oversized_page(bytes: &[u8], codec: Compression) -> Option<(usize, usize, usize)> {
    let mut at = 0usize;
    let mut page = 0usize;
    while at < bytes.len() {
        let (fields, length) = read_header(&bytes[at..])?;
        let size = usize::try_from(fields.int(Schema::PageHeader, 3)??).ok()?;
        let declared = usize::try_from(fields.int(Schema::PageHeader, 2)??).ok()?;
        if !fits(codec, size, declared) {
            return Some((page, size, declared));
        }
        at = at.checked_add(length)?.checked_add(size)?;
        page += 1;
    }
    None
}

impl Drop for ChunkPages<'_> {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        // A buffer grown for one huge page is not kept.
        if buffer.capacity() <= 1 << 26 {
            CODECS.with(|c| c.borrow_mut().buffer = buffer);
        }
    }
}

/// Appends `input` decompressed (`wanted` bytes expected) to `out`, or
/// `None` for a codec the reader leaves to the crate or bytes that do not
/// decompress.
fn decompress(codec: Compression, input: &[u8], wanted: usize, out: &mut Vec<u8>) -> Option<()> {
    let at = out.len();
    match codec {
        Compression::SNAPPY => super::snappy::decompress(input, wanted, out),
        Compression::ZSTD(_) => CODECS.with(|c| {
            let mut codecs = c.borrow_mut();
            if codecs.zstd.is_none() {
                codecs.zstd = zstd::bulk::Decompressor::new().ok();
            }
            let zstd = codecs.zstd.as_mut()?;
            // Without levels before it, the page goes straight into the
            // buffer's reserved capacity (nothing zeroed first); with them,
            // after them. Either way a page that decompresses to more than
            // `wanted` does not fit or does not match, and is refused.
            let n = if at == 0 {
                out.reserve(wanted);
                zstd.decompress_to_buffer(input, out).ok()?
            } else {
                out.resize(at + wanted, 0);
                zstd.decompress_to_buffer(input, &mut out[at..]).ok()?
            };
            (n == wanted).then_some(())
        }),
        Compression::LZ4_RAW => {
            out.resize(at + wanted, 0);
            let n = lz4_flex::block::decompress_into(input, &mut out[at..]).ok()?;
            (n == wanted).then_some(())
        }
        Compression::LZ4 => {
            out.resize(at + wanted, 0);
            let n = lz4_hadoop(input, &mut out[at..])?;
            (n == wanted).then_some(())
        }
        Compression::GZIP(_) => CODECS.with(|c| {
            let mut codecs = c.borrow_mut();
            let inflate = codecs
                .inflate
                .get_or_insert_with(|| flate2::Decompress::new(false));
            gzip(inflate, input, wanted, out)
        }),
        _ => None,
    }
}

/// Hadoop's LZ4 framing (frames of a big-endian decompressed size, a
/// compressed size and an LZ4 block), read exactly as the crate reads it
/// (its loop and its end condition); `None` where the crate would fall
/// back to other LZ4 forms, which are left to it.
fn lz4_hadoop(input: &[u8], output: &mut [u8]) -> Option<usize> {
    let mut input = input;
    let mut output = output;
    let mut read = 0usize;
    while input.len() >= 8 {
        let decompressed = u32::from_be_bytes(input[0..4].try_into().ok()?) as usize;
        let compressed = u32::from_be_bytes(input[4..8].try_into().ok()?) as usize;
        input = &input[8..];
        if input.len() < compressed || output.len() < decompressed {
            return None;
        }
        let n = lz4_flex::block::decompress_into(&input[..compressed], output).ok()?;
        if n != decompressed {
            return None;
        }
        read += n;
        let left = input.len() - compressed;
        if left > compressed {
            input = &input[compressed..];
            output = &mut output[decompressed..];
        } else {
            input = &input[..left];
            break;
        }
    }
    input.is_empty().then_some(read)
}

/// Gzip members one after another (as `MultiGzDecoder` reads them): each
/// header checked (and its CRC-16 when flagged), the deflate stream
/// inflated by the reused state, the CRC-32 and length checked.
fn gzip(
    inflate: &mut flate2::Decompress,
    mut input: &[u8],
    wanted: usize,
    out: &mut Vec<u8>,
) -> Option<()> {
    let start = out.len();
    let end = start + wanted;
    out.resize(end, 0);
    let mut at = start;
    while !input.is_empty() {
        let header = gzip_header(input)?;
        input = &input[header..];
        inflate.reset(false);
        let member = at;
        loop {
            let (before_in, before_out) = (inflate.total_in(), inflate.total_out());
            let status = inflate
                .decompress(input, &mut out[at..end], flate2::FlushDecompress::Finish)
                .ok()?;
            let used = usize::try_from(inflate.total_in() - before_in).ok()?;
            let made = usize::try_from(inflate.total_out() - before_out).ok()?;
            input = &input[used..];
            at += made;
            match status {
                flate2::Status::StreamEnd => break,
                // More output than `wanted`, or input that ends early.
                _ if used == 0 && made == 0 => return None,
                _ => {}
            }
        }
        let trailer = input.get(..8)?;
        input = &input[8..];
        let mut crc = flate2::Crc::new();
        crc.update(&out[member..at]);
        let (sum, size) = trailer.split_at(4);
        if crc.sum() != u32::from_le_bytes(sum.try_into().ok()?)
            || (at - member) as u32 != u32::from_le_bytes(size.try_into().ok()?)
        {
            return None;
        }
    }
    (at == end).then_some(())
}

/// The length of the gzip header at the start of `bytes`.
fn gzip_header(bytes: &[u8]) -> Option<usize> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    let fixed = bytes.get(..10)?;
    if fixed[0..3] != [0x1f, 0x8b, 8] {
        return None;
    }
    let flags = fixed[3];
    let mut at = 10usize;
    if flags & FEXTRA != 0 {
        let n = u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?) as usize;
        at = at.checked_add(2 + n)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at += bytes.get(at..)?.iter().position(|&b| b == 0)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        let stored = u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?);
        let mut crc = flate2::Crc::new();
        crc.update(bytes.get(..at)?);
        if crc.sum() as u16 != stored {
            return None;
        }
        at += 2;
    }
    (at <= bytes.len()).then_some(at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use parquet::basic::{GzipLevel, ZstdLevel};
    use std::io::{Read, Write};

    fn gzip_member(data: &[u8], name: Option<&str>) -> Vec<u8> {
        let mut builder = flate2::GzBuilder::new();
        if let Some(name) = name {
            builder = builder.filename(name).comment("a comment");
        }
        let mut encoder = builder.write(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn data(n: usize, salt: u8) -> Vec<u8> {
        (0..n).map(|i| ((i * 7 + i / 13) as u8) ^ salt).collect()
    }

    /// Gzip members one after another decode as `MultiGzDecoder` decodes
    /// them, with names and comments, on one reused inflate state; a
    /// changed byte of the CRC or a short member is refused.
    #[test]
    fn gzip_members_as_the_crate_reads_them() {
        let (a, b) = (data(5_000, 1), data(3_333, 2));
        let mut input = gzip_member(&a, None);
        input.extend(gzip_member(&b, Some("part")));
        let mut expected = Vec::new();
        flate2::read::MultiGzDecoder::new(&input[..])
            .read_to_end(&mut expected)
            .unwrap();
        assert_eq!(expected.len(), a.len() + b.len());
        for _ in 0..3 {
            let mut out = vec![9u8; 4];
            decompress(
                Compression::GZIP(GzipLevel::default()),
                &input,
                expected.len(),
                &mut out,
            )
            .unwrap();
            assert_eq!(&out[..4], &[9; 4]);
            assert_eq!(&out[4..], &expected[..]);
        }
        let gz = Compression::GZIP(GzipLevel::default());
        let mut out = Vec::new();
        assert!(decompress(gz, &input, expected.len() - 1, &mut out).is_none());
        let mut out = Vec::new();
        assert!(decompress(gz, &input, expected.len() + 1, &mut out).is_none());
        let mut bad = input.clone();
        let crc_at = gzip_member(&a, None).len() - 8;
        bad[crc_at] ^= 1;
        let mut out = Vec::new();
        assert!(decompress(gz, &bad, expected.len(), &mut out).is_none());
        let mut out = Vec::new();
        assert!(decompress(gz, &input[..input.len() - 3], expected.len(), &mut out).is_none());
    }

    /// Hadoop-framed LZ4 (two frames), raw LZ4, snappy and zstd give the
    /// bytes back; a zstd page holding more than declared is refused.
    #[test]
    fn every_codec_gives_the_bytes_back() {
        let page = data(70_000, 3);
        let half = page.len() / 2;
        let mut hadoop = Vec::new();
        for part in [&page[..half], &page[half..]] {
            let block = lz4_flex::block::compress(part);
            hadoop.extend((part.len() as u32).to_be_bytes());
            hadoop.extend((block.len() as u32).to_be_bytes());
            hadoop.extend(block);
        }
        let snappy = snap::raw::Encoder::new().compress_vec(&page).unwrap();
        let zstd = zstd::bulk::compress(&page, 3).unwrap();
        for (codec, input) in [
            (Compression::LZ4, hadoop),
            (Compression::LZ4_RAW, lz4_flex::block::compress(&page)),
            (Compression::SNAPPY, snappy),
            (Compression::ZSTD(ZstdLevel::default()), zstd.clone()),
        ] {
            let mut out = Vec::new();
            decompress(codec, &input, page.len(), &mut out).unwrap();
            assert_eq!(out, page, "{codec:?}");
            let mut out = Vec::new();
            assert!(
                decompress(codec, &input, page.len() - 1, &mut out).is_none(),
                "{codec:?}"
            );
            let mut out = Vec::new();
            let cut = &input[..input.len() - 1];
            assert!(
                decompress(codec, cut, page.len(), &mut out).is_none(),
                "{codec:?}"
            );
        }
        let mut out = Vec::new();
        assert!(decompress(Compression::LZO, &zstd, page.len(), &mut out).is_none());
    }

    /// A page header in thrift's compact protocol, by hand: a v1 data page
    /// of one PLAIN value, `extra` bytes before the header's stop.
    fn v1_page(kind: u8, extra: &[u8]) -> Vec<u8> {
        let mut page = vec![0x15, kind << 1, 0x15, 0x08, 0x15, 0x08];
        // Field 5, the data page header: 1 value, PLAIN, RLE levels.
        page.extend([0x2c, 0x15, 0x02, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00]);
        page.extend(extra);
        page.push(0x00);
        page.extend([7, 0, 0, 0]);
        page
    }

    /// A v1 data page whose header declares `declared` bytes uncompressed
    /// and 4 stored (zigzag varint, as the compact protocol writes it).
    fn page_declaring(declared: u64) -> Vec<u8> {
        let mut page = vec![0x15, 0x00, 0x15];
        let mut v = declared << 1;
        while v >= 0x80 {
            page.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        page.push(v as u8);
        page.extend([0x15, 0x08]);
        page.extend([
            0x2c, 0x15, 0x02, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00,
        ]);
        page.extend([7, 0, 0, 0]);
        page
    }

    /// A page that declares more uncompressed bytes than its 4 stored
    /// bytes can make under its codec is refused by both paths before any
    /// buffer is sized by it (the page reader leaves it, the general path
    /// names it); up to each codec's bound it is not.
    #[test]
    fn a_page_declaring_more_than_its_codec_can_make_is_refused() {
        for (codec, most) in [
            (Compression::SNAPPY, 4 * 32 + 1024),
            (Compression::LZ4_RAW, 4 * 256 + 1024),
            (Compression::GZIP(Default::default()), 4 * 1040 + 1024),
            (Compression::ZSTD(Default::default()), 4 * 32_768 + 1024),
        ] {
            let mut chunk = page_declaring(4);
            chunk.extend(page_declaring(most));
            assert_eq!(oversized_page(&chunk, codec), None, "{codec}");
            chunk.extend(page_declaring(most + 1));
            assert_eq!(
                oversized_page(&chunk, codec),
                Some((2, 4, most as usize + 1)),
                "{codec}"
            );
            let mut pages = ChunkPages::new(&chunk, codec);
            // The first two pages' bodies do not decompress; the third is
            // refused on its header alone.
            pages.at = chunk.len() - page_declaring(most + 1).len();
            assert!(pages.next_page().is_none(), "{codec}");
        }
        // Nothing is sized by an uncompressed page's declared size.
        let chunk = page_declaring(1 << 30);
        assert_eq!(oversized_page(&chunk, Compression::UNCOMPRESSED), None);
        // The declared size as read: 2^31 - 1, the largest a header holds.
        let chunk = page_declaring((1 << 31) - 1);
        assert_eq!(
            oversized_page(&chunk, Compression::SNAPPY),
            Some((0, 4, (1 << 31) - 1))
        );
    }

    /// Headers are read from the bytes: a data page's fields and body, an
    /// index page passed over; a v1 page that also carries a v2 header (whose
    /// level lengths the crate would use) is left to the crate, as is an
    /// unknown page type or a header cut short.
    #[test]
    fn headers_read_by_hand() {
        let mut chunk = v1_page(1, &[]);
        chunk.extend(v1_page(0, &[]));
        let mut pages = ChunkPages::new(&chunk, Compression::UNCOMPRESSED);
        match pages.next_page() {
            Some(Some(RawPage::V1 {
                buf,
                num_values,
                encoding,
                def_level_encoding,
            })) => {
                assert_eq!(buf, &[7, 0, 0, 0]);
                assert_eq!(num_values, 1);
                assert_eq!(encoding, Some(Encoding::PLAIN));
                assert_eq!(def_level_encoding, Some(Encoding::RLE));
            }
            _ => panic!("no data page"),
        }
        assert!(matches!(pages.next_page(), Some(None)));
        // Field 8 (a v2 header, empty) after field 5.
        let odd = v1_page(0, &[0x3c, 0x00]);
        assert!(ChunkPages::new(&odd, Compression::UNCOMPRESSED)
            .next_page()
            .is_none());
        let unknown = v1_page(4, &[]);
        assert!(ChunkPages::new(&unknown, Compression::UNCOMPRESSED)
            .next_page()
            .is_none());
        let page = v1_page(0, &[]);
        for cut in 1..page.len() {
            let result = ChunkPages::new(&page[..cut], Compression::UNCOMPRESSED)
                .next_page()
                .map(|p| p.is_some());
            assert_eq!(result, None, "cut at {cut}");
        }
    }

    /// A chunk written by the `parquet` crate, every byte of it changed in
    /// turn: the reader returns pages or refuses, and never panics.
    #[test]
    fn damaged_chunks_are_refused_without_a_panic() {
        use parquet::data_type::Int32Type;
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        use parquet::schema::parser::parse_message_type;
        let schema =
            std::sync::Arc::new(parse_message_type("message m { optional int32 a; }").unwrap());
        for codec in [
            Compression::UNCOMPRESSED,
            Compression::ZSTD(ZstdLevel::default()),
            Compression::GZIP(GzipLevel::default()),
            Compression::LZ4,
        ] {
            let properties = WriterProperties::builder()
                .set_compression(codec)
                .set_data_page_row_count_limit(50)
                .set_write_batch_size(50)
                .build();
            let mut bytes = Vec::new();
            let mut writer =
                SerializedFileWriter::new(&mut bytes, schema.clone(), properties.into()).unwrap();
            let mut group = writer.next_row_group().unwrap();
            let mut column = group.next_column().unwrap().unwrap();
            let values: Vec<i32> = (0..200).map(|i| i % 7).collect();
            let levels: Vec<i16> = (0..220).map(|i| i16::from(i % 11 != 0)).collect();
            let defined: Vec<i32> = values[..levels.iter().filter(|&&l| l == 1).count()].to_vec();
            column
                .typed::<Int32Type>()
                .write_batch(&defined, Some(&levels), None)
                .unwrap();
            column.close().unwrap();
            group.close().unwrap();
            let metadata = writer.close().unwrap();
            let (start, length) = metadata.row_group(0).column(0).byte_range();
            let chunk = bytes[start as usize..(start + length) as usize].to_vec();
            let pages = |chunk: &[u8]| {
                let mut reader = ChunkPages::new(chunk, codec);
                let mut n = 0;
                while let Some(page) = reader.next_page()? {
                    n += 1;
                    if let RawPage::V1 { num_values, .. } | RawPage::V2 { num_values, .. } = page {
                        assert!(num_values <= 220);
                    }
                }
                Some(n)
            };
            assert!(pages(&chunk).unwrap() >= 4, "{codec:?}");
            for at in 0..chunk.len() {
                for flip in [1u8, 0x80, 0xff] {
                    let mut damaged = chunk.clone();
                    damaged[at] ^= flip;
                    let _ = pages(&damaged);
                }
                let _ = pages(&chunk[..at]);
            }
        }
    }
}
