//! One column chunk's bytes, read in one go (into memory not zero-filled
//! first) and served to the `parquet` crate's page readers (`ChunkBytes`),
//! and the guards run before the crate sees a file: chunk byte ranges,
//! declared row counts, and panics inside the crate turned into errors.

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
    /// `length` bytes from offset `start` of the open `file`, by `pread`
    /// into capacity not zero-filled first (`vec![0; n]` was a pass over
    /// every byte), on the one handle the file was opened with (opening
    /// the file again for each chunk was three system calls more each).
    #[cfg(unix)]
    #[allow(unsafe_code)]
    pub(super) fn read(file: &std::fs::File, start: u64, length: u64) -> std::io::Result<Self> {
        use std::os::unix::io::AsRawFd;
        let size = usize::try_from(length)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "chunk too long"))?;
        let mut buffer: Vec<u8> = Vec::with_capacity(size);
        let mut filled = 0usize;
        while filled < size {
            let offset = start
                .checked_add(filled as u64)
                .and_then(|o| libc::off_t::try_from(o).ok())
                .ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "offset too large")
                })?;
            // SAFETY: the destination is the vector's spare capacity from
            // `filled` on, `size - filled` bytes that it owns and nothing
            // else refers to; `pread` writes at most that many bytes there
            // and reads nothing from it. The descriptor is `file`'s, open
            // for the whole call.
            let read = unsafe {
                libc::pread(
                    file.as_raw_fd(),
                    buffer.as_mut_ptr().add(filled).cast::<libc::c_void>(),
                    size - filled,
                    offset,
                )
            };
            match read {
                0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                n if n < 0 => {
                    let error = std::io::Error::last_os_error();
                    if error.kind() != std::io::ErrorKind::Interrupted {
                        return Err(error);
                    }
                }
                // `pread` returned at most `size - filled`.
                n => filled += n as usize,
            }
        }
        // SAFETY: the first `size` bytes were written by `pread` above
        // (`filled` counts them and the loop ends at `size`), and `size`
        // is the capacity.
        unsafe { buffer.set_len(size) };
        Ok(ChunkBytes {
            start,
            bytes: bytes::Bytes::from(buffer),
        })
    }

    /// `length` bytes from offset `start` of `file`, on a handle of its own.
    #[cfg(not(unix))]
    pub(super) fn read(file: &std::fs::File, start: u64, length: u64) -> std::io::Result<Self> {
        use std::io::{Read, Seek};
        let size = usize::try_from(length)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "chunk too long"))?;
        let mut file = file.try_clone()?;
        file.seek(std::io::SeekFrom::Start(start))?;
        let mut buffer = Vec::with_capacity(size);
        file.take(length).read_to_end(&mut buffer)?;
        if buffer.len() != size {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
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
/// cannot tell (the bytes end) and leaves it to the crate.
enum Skim {
    Damaged(String),
    Unsure,
}

/// The structs of a page header whose fields the crate reads by their
/// schema's type, whatever type the bytes declare (`parquet`'s
/// `PageHeader::read_thrift_without_stats` and the headers under it);
/// `Other`: every field is skipped by its declared type.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Schema {
    PageHeader,
    DataPage,
    DataPageV2,
    Dictionary,
    Other,
}

impl Schema {
    /// Where `HeaderFields` keeps this struct's fields.
    fn index(self) -> Option<usize> {
        match self {
            Schema::PageHeader => Some(0),
            Schema::DataPage => Some(1),
            Schema::DataPageV2 => Some(2),
            Schema::Dictionary => Some(3),
            Schema::Other => None,
        }
    }
}

/// How the crate reads a known field.
enum Known {
    /// An `i32` or an enum: a varint.
    Int,
    /// A boolean, in the field header's type (anything else is an error).
    Bool,
    Struct(Schema),
}

fn known(schema: Schema, id: i64) -> Option<Known> {
    use Known::{Bool, Int, Struct};
    match (schema, id) {
        (Schema::PageHeader, 1..=4) => Some(Int),
        (Schema::PageHeader, 5) => Some(Struct(Schema::DataPage)),
        (Schema::PageHeader, 6) => Some(Struct(Schema::Other)),
        (Schema::PageHeader, 7) => Some(Struct(Schema::Dictionary)),
        (Schema::PageHeader, 8) => Some(Struct(Schema::DataPageV2)),
        (Schema::DataPage, 1..=4) => Some(Int),
        (Schema::DataPageV2, 1..=6) => Some(Int),
        (Schema::DataPageV2, 7) => Some(Bool),
        (Schema::Dictionary, 1 | 2) => Some(Int),
        (Schema::Dictionary, 3) => Some(Bool),
        _ => None,
    }
}

/// Walks a page header as the `parquet` crate reads it, without building
/// it: known fields by their schema's type, unknown ones skipped by their
/// declared type the crate's way (a boolean element of a list takes it no
/// bytes). Every list, set and map must declare no more elements than
/// bytes remain, all of them together no more than the header's bytes
/// (a valid header's elements take a byte each at least; the crate would
/// loop over each, slow units dbcf8eb5, 88322c53, 057f8cf1), no value may
/// have a type writers never use (72ddab64, 5daffc3d), and nesting stays
/// under 64 levels. Following the crate's reading, not the bytes' own
/// declarations, keeps the skim where the crate is: a known field declared
/// with another type cannot hide a list from it. `Err` only for a header
/// that is damaged for certain.
pub(super) fn skim_header(bytes: &[u8]) -> Result<(), String> {
    let mut walk = Walk::new(bytes);
    match walk.structure(Schema::PageHeader, 0) {
        Err(Skim::Damaged(detail)) => Err(detail),
        _ => Ok(()),
    }
}

/// The fields of a page header the engine's page reader needs, by struct
/// (`PageHeader`, `DataPage`, `DataPageV2`, `Dictionary`) and field id:
/// integers (zigzag-decoded) and booleans (1 for true).
#[derive(Debug, Default)]
pub(super) struct HeaderFields {
    values: [[Option<i64>; 9]; 4],
    /// Which structs the header holds (even with none of their fields).
    present: [bool; 4],
}

impl HeaderFields {
    /// Field `id` of `schema`, when present and within `i32`.
    pub(super) fn int(&self, schema: Schema, id: usize) -> Option<Option<i32>> {
        let value = self.values.get(schema.index()?)?.get(id)?;
        match value {
            None => Some(None),
            Some(v) => i32::try_from(*v).ok().map(Some),
        }
    }

    /// Whether `schema`'s struct was in the header.
    pub(super) fn has(&self, schema: Schema) -> bool {
        schema.index().is_some_and(|i| self.present[i])
    }
}

/// Reads a page header at the start of `bytes`, walked as `skim_header`
/// walks it: its fields and its length in bytes, or `None` for a header
/// that is damaged or runs past `bytes`.
pub(super) fn read_header(bytes: &[u8]) -> Option<(HeaderFields, usize)> {
    let mut walk = Walk::new(bytes);
    walk.structure(Schema::PageHeader, 0).ok()?;
    Some((walk.fields, walk.at))
}

struct Walk<'a> {
    bytes: &'a [u8],
    at: usize,
    /// Elements of lists, sets and maps still allowed.
    budget: u64,
    fields: HeaderFields,
}

const MAX_DEPTH: u32 = 64;

impl Walk<'_> {
    fn new(bytes: &[u8]) -> Walk<'_> {
        Walk {
            bytes,
            at: 0,
            budget: bytes.len() as u64,
            fields: HeaderFields::default(),
        }
    }

    /// Keeps a known field's value.
    fn record(&mut self, schema: Schema, id: i64, value: i64) {
        if let (Some(s), Ok(id)) = (schema.index(), usize::try_from(id)) {
            if let Some(slot) = self.fields.values[s].get_mut(id) {
                *slot = Some(value);
            }
        }
    }

    fn byte(&mut self) -> Result<u8, Skim> {
        let b = *self.bytes.get(self.at).ok_or(Skim::Unsure)?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Skim> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Skim::Unsure)
    }

    fn skip(&mut self, n: u64) -> Result<(), Skim> {
        let end = u64::try_from(self.at)
            .ok()
            .and_then(|a| a.checked_add(n))
            .filter(|&e| e <= self.bytes.len() as u64)
            .ok_or(Skim::Unsure)?;
        self.at = end as usize;
        Ok(())
    }

    fn left(&self) -> u64 {
        (self.bytes.len() - self.at) as u64
    }

    /// `size` more elements of a list or map.
    fn elements(&mut self, size: u64, what: &str) -> Result<(), Skim> {
        let left = self.left();
        if size > left {
            return Err(Skim::Damaged(format!(
                "a {what} of {size} elements in the {left} bytes left of its column chunk"
            )));
        }
        if size > self.budget {
            return Err(Skim::Damaged(format!(
                "lists of more elements than the header has bytes ({})",
                self.bytes.len()
            )));
        }
        self.budget -= size;
        Ok(())
    }

    fn structure(&mut self, schema: Schema, depth: u32) -> Result<(), Skim> {
        if depth > MAX_DEPTH {
            return Err(Skim::Damaged(format!(
                "structs nested over {MAX_DEPTH} deep"
            )));
        }
        let mut last: i64 = 0;
        loop {
            let header = self.byte()?;
            let kind = header & 0x0f;
            if kind == 0 {
                return Ok(());
            }
            let delta = header >> 4;
            let id = if delta == 0 {
                let z = self.varint()?;
                ((z >> 1) as i64) ^ -((z & 1) as i64)
            } else {
                last + i64::from(delta)
            };
            last = id;
            match known(schema, id) {
                Some(Known::Int) => {
                    let z = self.varint()?;
                    self.record(schema, id, ((z >> 1) as i64) ^ -((z & 1) as i64));
                }
                Some(Known::Bool) if kind == 1 || kind == 2 => {
                    self.record(schema, id, i64::from(kind == 1));
                }
                Some(Known::Bool) => {
                    return Err(Skim::Damaged(format!(
                        "field {id} is a boolean declared with thrift type {kind}"
                    )))
                }
                Some(Known::Struct(inner)) => {
                    if let Some(i) = inner.index() {
                        self.fields.present[i] = true;
                    }
                    self.structure(inner, depth + 1)?
                }
                None => self.value(kind, depth)?,
            }
        }
    }

    /// One value of compact type `kind` skipped as the crate skips it.
    fn value(&mut self, kind: u8, depth: u32) -> Result<(), Skim> {
        if depth > MAX_DEPTH {
            return Err(Skim::Damaged(format!(
                "values nested over {MAX_DEPTH} deep"
            )));
        }
        match kind {
            1 | 2 => Ok(()),
            3 => self.skip(1),
            4..=6 => self.varint().map(|_| ()),
            7 => self.skip(8),
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => {
                let header = self.byte()?;
                if header == 0 {
                    return Ok(());
                }
                let mut size = u64::from(header >> 4);
                if size == 15 {
                    size = self.varint()?;
                }
                self.elements(size, "list")?;
                for _ in 0..size {
                    self.value(header & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                self.elements(size, "map")?;
                for _ in 0..size {
                    self.value(kinds >> 4, depth + 1)?;
                    self.value(kinds & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            12 => self.structure(Schema::Other, depth + 1),
            13 => self.skip(16),
            // No writer uses types 14 and 15 (nor 0 for a value).
            other => Err(Skim::Damaged(format!(
                "a value of unknown thrift type {other}"
            ))),
        }
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
        // Field 1 (i32) = 3, field 9 (unknown to the crate: a list of 14
        // booleans) in 3 bytes.
        let huge: &[u8] = &[0x15, 0x06, 0x89, 0xE1, 0x01, 0x01, 0x01];
        let detail = skim_header(huge).unwrap_err();
        assert!(detail.contains("14 elements"), "{detail}");
        // The same list in 14 bytes and the stop byte (the crate skips a
        // boolean element in no bytes, so the skim does too: the rest is
        // for the crate to judge).
        let mut fine = vec![0x15, 0x06, 0x89, 0xE1];
        fine.extend([1u8; 14]);
        fine.push(0);
        assert!(skim_header(&fine).is_ok());
        // Lists of lists: each inner list within the bytes left, together
        // far more elements than the header has bytes.
        let mut nested = vec![0x99, 0xF9, 0x20];
        for _ in 0..32 {
            nested.extend([0xF1, 0x20]);
        }
        nested.extend([0u8; 40]);
        let detail = skim_header(&nested).unwrap_err();
        assert!(
            detail.contains("more elements than the header has bytes"),
            "{detail}"
        );
        // A known field (7: the dictionary page header, a struct) declared
        // as an i32 is still read as the crate reads it, a struct: the list
        // inside is found.
        let hidden: &[u8] = &[0x75, 0x49, 0xF1, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(skim_header(hidden).is_err());
        // A list size in a varint: 2^31 elements.
        let varint_list: &[u8] = &[0x99, 0xF1, 0x80, 0x80, 0x80, 0x80, 0x08, 0x00];
        assert!(skim_header(varint_list).is_err());
        // A field of type 14.
        assert!(skim_header(&[0x9E, 0x00]).unwrap_err().contains("type 14"));
        // A known field read by its schema's type: field 2 (an i32)
        // declared as a list is a varint to the crate, and to the skim.
        assert!(skim_header(&[0x15, 0x06, 0x19, 0xE1, 0x01, 0x00]).is_ok());
        // Cut short: left to the crate.
        assert!(skim_header(&[0x15]).is_ok());
        assert!(skim_header(&[]).is_ok());
    }
}
