//! One column chunk's bytes, read with one positioned read and served to
//! the `parquet` crate's page readers (`ChunkBytes`), and the guards run
//! before the crate sees a file: chunk byte ranges, declared row counts,
//! and panics inside the crate turned into errors.

use super::*;
/// Runs `f`, turning a panic into an error message. While it runs, the
/// panic hook stays silent on this thread (any other panic is reported as
/// usual), so a damaged file gives one clean line, not a backtrace.
pub(super) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(|g| g.get()) {
                previous(info);
            }
        }));
    });
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic in the Parquet decoder".to_string())
    })
}

/// The most rows one row group may declare: 2^27, over twenty times
/// Denmark's population (writers use 0.1 to 1 million).
pub(super) const MAX_GROUP_ROWS: i64 = 1 << 27;

/// Checks that every column chunk the footer describes lies inside the
/// file, so a damaged footer is an error here rather than a panic deeper
/// in the `parquet` crate (found by fuzzing: `population_file`, crash
/// d952e7a7, a negative chunk offset).
pub(super) fn check_chunks(metadata: &ParquetMetaData, path: &Path) -> Result<(), InputError> {
    let length = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    for (g, group) in metadata.row_groups().iter().enumerate() {
        if group.num_rows() < 0 {
            return Err(InputError::NotParquet {
                path: path.to_path_buf(),
                detail: format!("row group {g} declares {} rows", group.num_rows()),
            });
        }
        if group.num_rows() > MAX_GROUP_ROWS {
            // Buffers are sized by the declared count: a damaged footer
            // must not make the engine ask for terabytes (an allocation
            // failure aborts rather than panics).
            return Err(InputError::NotParquet {
                path: path.to_path_buf(),
                detail: format!(
                    "row group {g} declares {} rows; row groups of at most {MAX_GROUP_ROWS} rows are read (write the file with smaller row groups)",
                    group.num_rows()
                ),
            });
        }
        for (c, column) in group.columns().iter().enumerate() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let size = column.compressed_size();
            let inside = start >= 0
                && size >= 0
                && (start as u64)
                    .checked_add(size as u64)
                    .is_some_and(|end| end <= length);
            if !inside {
                return Err(InputError::NotParquet {
                    path: path.to_path_buf(),
                    detail: format!(
                        "row group {g}, column {c}: the footer places the column chunk at {start} ({size} bytes), outside the file of {length} bytes"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// One column chunk's bytes in memory, addressed by file offset: what the
/// parquet page reader reads from instead of the file (whose reader clones
/// and seeks the file handle for every page).
pub(super) struct ChunkBytes {
    pub(super) start: u64,
    pub(super) bytes: bytes::Bytes,
}

impl ChunkBytes {
    pub(super) fn read(path: &Path, start: u64, length: u64) -> std::io::Result<Self> {
        use std::os::unix::fs::FileExt;
        let length = usize::try_from(length)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "chunk too long"))?;
        let file = std::fs::File::open(path)?;
        let mut buffer = vec![0u8; length];
        file.read_exact_at(&mut buffer, start)?;
        Ok(ChunkBytes {
            start,
            bytes: bytes::Bytes::from(buffer),
        })
    }

    /// The bytes from file offset `start` on, `length` of them if given.
    pub(super) fn slice(
        &self,
        start: u64,
        length: Option<usize>,
    ) -> parquet::errors::Result<bytes::Bytes> {
        let outside = || {
            parquet::errors::ParquetError::EOF(format!(
                "offset {start} lies outside the column chunk at {} of {} bytes",
                self.start,
                self.bytes.len()
            ))
        };
        let from = start
            .checked_sub(self.start)
            .and_then(|o| usize::try_from(o).ok())
            .filter(|&o| o <= self.bytes.len())
            .ok_or_else(outside)?;
        let to = match length {
            None => self.bytes.len(),
            Some(n) => from
                .checked_add(n)
                .filter(|&t| t <= self.bytes.len())
                .ok_or_else(outside)?,
        };
        Ok(self.bytes.slice(from..to))
    }
}

impl parquet::file::reader::Length for ChunkBytes {
    fn len(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

impl parquet::file::reader::ChunkReader for ChunkBytes {
    type T = StrictReader;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(StrictReader {
            bytes: self.slice(start, None)?,
            skimmed: false,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        self.slice(start, Some(length))
    }
}

/// A reader of a chunk's bytes that fails when asked to read past their
/// end, where a plain reader would return 0 bytes. The `parquet` crate
/// skips unknown fields of a page header by copying "n bytes" from its
/// reader without checking how many came, so a damaged header declaring a
/// list of two billion doubles would be skipped element by element past
/// the end for seconds (found by fuzzing: `population_file`, slow unit
/// 31b45b37, 9 s for a 123 KB file); with this reader the first read past
/// the end is an error.
///
/// The crate reads a page header, and only a header, from a reader it
/// gets at the header's offset; before the first read the header is
/// skimmed (`skim_header`), so a header whose thrift lists declare more
/// elements than there are bytes left is refused at once (slow unit
/// dbcf8eb5: lists of two billion elements that take the crate no bytes
/// to skip, 5 s for a 46 KB file).
pub(super) struct StrictReader {
    bytes: bytes::Bytes,
    skimmed: bool,
}

impl std::io::Read for StrictReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use bytes::Buf;
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.skimmed {
            self.skimmed = true;
            if let Err(detail) = skim_header(&self.bytes) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("damaged page header: {detail}"),
                ));
            }
        }
        if self.bytes.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a page header reads past the end of its column chunk",
            ));
        }
        let n = buf.len().min(self.bytes.len());
        self.bytes.copy_to_slice(&mut buf[..n]);
        Ok(n)
    }
}

/// Why a skim stopped: the header is damaged beyond doubt, or the skim
/// cannot tell (the bytes end, an unknown type) and leaves it to the crate.
enum Skim {
    Damaged(String),
    Unsure,
}

/// Walks one thrift compact-protocol struct (a page header) at the start
/// of `bytes` without building it: every list, set and map must declare
/// no more elements than bytes remain (each element of a valid header
/// takes at least one), no value has a type writers never use (the crate
/// reads a known field by its schema's type whatever the declared one, so
/// such a header could lead it astray: slow units 72ddab64 and 5daffc3d),
/// and nesting stays under 64 levels. `Err` only for a header that is
/// damaged for certain.
pub(super) fn skim_header(bytes: &[u8]) -> Result<(), String> {
    let mut at = 0;
    match skim_struct(bytes, &mut at, 0) {
        Err(Skim::Damaged(detail)) => Err(detail),
        _ => Ok(()),
    }
}

fn next_byte(bytes: &[u8], at: &mut usize) -> Result<u8, Skim> {
    let b = *bytes.get(*at).ok_or(Skim::Unsure)?;
    *at += 1;
    Ok(b)
}

fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, Skim> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = next_byte(bytes, at)?;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(Skim::Unsure)
}

fn skip(bytes: &[u8], at: &mut usize, n: u64) -> Result<(), Skim> {
    let end = u64::try_from(*at)
        .ok()
        .and_then(|a| a.checked_add(n))
        .filter(|&e| e <= bytes.len() as u64)
        .ok_or(Skim::Unsure)?;
    *at = end as usize;
    Ok(())
}

const MAX_DEPTH: u32 = 64;

fn skim_struct(bytes: &[u8], at: &mut usize, depth: u32) -> Result<(), Skim> {
    if depth > MAX_DEPTH {
        return Err(Skim::Damaged(format!(
            "structs nested over {MAX_DEPTH} deep"
        )));
    }
    loop {
        let header = next_byte(bytes, at)?;
        if header == 0 {
            return Ok(());
        }
        if header >> 4 == 0 {
            varint(bytes, at)?;
        }
        skim_value(bytes, at, header & 0x0f, depth, false)?;
    }
}

/// One value of compact type `kind`; `in_list`: a boolean is then a byte
/// (in a struct field it is in the type).
fn skim_value(
    bytes: &[u8],
    at: &mut usize,
    kind: u8,
    depth: u32,
    in_list: bool,
) -> Result<(), Skim> {
    match kind {
        1 | 2 if in_list => skip(bytes, at, 1),
        1 | 2 => Ok(()),
        3 => skip(bytes, at, 1),
        4..=6 => varint(bytes, at).map(|_| ()),
        7 => skip(bytes, at, 8),
        8 => {
            let n = varint(bytes, at)?;
            skip(bytes, at, n)
        }
        9 | 10 => {
            let header = next_byte(bytes, at)?;
            let mut size = u64::from(header >> 4);
            if size == 15 {
                size = varint(bytes, at)?;
            }
            let left = (bytes.len() - *at) as u64;
            if size > left {
                return Err(Skim::Damaged(format!(
                    "a list of {size} elements in the {left} bytes left of its column chunk"
                )));
            }
            for _ in 0..size {
                skim_value(bytes, at, header & 0x0f, depth + 1, true)?;
            }
            Ok(())
        }
        11 => {
            let size = varint(bytes, at)?;
            if size == 0 {
                return Ok(());
            }
            let kinds = next_byte(bytes, at)?;
            let left = (bytes.len() - *at) as u64;
            if size > left {
                return Err(Skim::Damaged(format!(
                    "a map of {size} entries in the {left} bytes left of its column chunk"
                )));
            }
            for _ in 0..size {
                skim_value(bytes, at, kinds >> 4, depth + 1, true)?;
                skim_value(bytes, at, kinds & 0x0f, depth + 1, true)?;
            }
            Ok(())
        }
        12 => skim_struct(bytes, at, depth + 1),
        13 => skip(bytes, at, 16),
        // No writer uses types 14 and 15 (nor 0 for a value).
        other => Err(Skim::Damaged(format!(
            "a value of unknown thrift type {other}"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Read;

    /// The crate's way of skipping `n` bytes (`io::copy` of `take(n)` into
    /// a sink) fails at the end of a chunk instead of copying nothing, while
    /// reads within the chunk, up to its last byte, work as before.
    #[test]
    fn reading_past_the_end_is_an_error() {
        // `abcdef` skims as a header: a field of type 1 (a boolean) with
        // id delta 6, then the bytes end: not certainly damaged.
        let mut reader = StrictReader {
            bytes: bytes::Bytes::from_static(b"abcdef"),
            skimmed: false,
        };
        let mut four = [0u8; 4];
        reader.read_exact(&mut four).unwrap();
        assert_eq!(&four, b"abcd");
        let copied = std::io::copy(&mut (&mut reader).take(2), &mut std::io::sink()).unwrap();
        assert_eq!(copied, 2);
        let past = std::io::copy(&mut (&mut reader).take(8), &mut std::io::sink());
        assert_eq!(past.unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        // A plain reader copies nothing and reports success.
        let plain: &[u8] = b"";
        assert_eq!(
            std::io::copy(&mut plain.take(8), &mut std::io::sink()).unwrap(),
            0
        );
    }

    /// A header whose list declares more elements than bytes are left is
    /// damaged; a valid header, or one that merely ends early, is not.
    #[test]
    fn skimming_page_headers() {
        // Field 1 (i32) = 3, field 2 (list of 14 booleans) in 3 bytes.
        let huge: &[u8] = &[0x15, 0x06, 0x19, 0xE1, 0x01, 0x01, 0x01];
        let detail = skim_header(huge).unwrap_err();
        assert!(detail.contains("14 elements"), "{detail}");
        // The same list with its 14 bytes, then the stop byte.
        let mut fine = vec![0x15, 0x06, 0x19, 0xE1];
        fine.extend([1u8; 14]);
        fine.push(0);
        assert!(skim_header(&fine).is_ok());
        // A list size in a varint: 2^31 elements.
        let varint_list: &[u8] = &[0x19, 0xF1, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(skim_header(varint_list).is_err());
        // A field of type 14.
        assert!(skim_header(&[0x1E, 0x00]).unwrap_err().contains("type 14"));
        // Cut short: left to the crate.
        assert!(skim_header(&[0x15]).is_ok());
        assert!(skim_header(&[]).is_ok());
    }
}
