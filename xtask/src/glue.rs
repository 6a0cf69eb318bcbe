//! Short import names between the playground's WebAssembly module and its JavaScript glue.
//!
//! wasm-bindgen names each function the module imports from its glue after the JavaScript it calls plus
//! a 16-digit hash (`__wbg_addEventListener_847fd86b8c33ec43`), and writes every name twice: in the
//! module's import section and as a key of the glue's import object. Those hashes barely compress: the
//! 127 names cost the bundle 4 KB gzipped. [`shorten_import_names`] renames each import, in both files,
//! to a short name of its own (`w0`, `w1`, ...). It changes nothing else, and it refuses (so `dist`
//! fails) unless every name is found exactly once in the glue, as an object key.

use std::path::Path;

/// The module name under which wasm-bindgen's `--target web` glue provides the imports.
const GLUE_MODULE: &[u8] = b"./web_bg.js";

/// Renames the glue's imports in `wasm` and `js` (the two files wasm-bindgen wrote together) and returns
/// how many were renamed.
pub fn shorten_import_names(wasm: &Path, js: &Path) -> Result<usize, String> {
    let module = std::fs::read(wasm).map_err(|error| format!("cannot read {}: {error}", wasm.display()))?;
    let mut glue = std::fs::read_to_string(js).map_err(|error| format!("cannot read {}: {error}", js.display()))?;
    let (module, renamed) = rename_imports(&module, &mut glue)?;
    std::fs::write(wasm, module).map_err(|error| format!("cannot write {}: {error}", wasm.display()))?;
    std::fs::write(js, glue).map_err(|error| format!("cannot write {}: {error}", js.display()))?;
    Ok(renamed)
}

/// The module with its import section rewritten, and the number of imports renamed in `glue`.
fn rename_imports(module: &[u8], glue: &mut String) -> Result<(Vec<u8>, usize), String> {
    if module.len() < 8 || &module[..4] != b"\0asm" || module[4..8] != [1, 0, 0, 0] {
        return Err("not a WebAssembly module (version 1)".to_string());
    }
    let mut out = module[..8].to_vec();
    let mut reader = Reader { bytes: module, at: 8 };
    let mut renamed = 0;
    while reader.at < module.len() {
        let id = reader.byte()?;
        let size = reader.leb()? as usize;
        let payload = reader.take(size)?;
        let payload = if id == 2 {
            let (section, count) = rename_in_import_section(payload, glue)?;
            renamed = count;
            section
        } else {
            payload.to_vec()
        };
        out.push(id);
        write_leb(&mut out, payload.len() as u64);
        out.extend_from_slice(&payload);
    }
    Ok((out, renamed))
}

fn rename_in_import_section(section: &[u8], glue: &mut String) -> Result<(Vec<u8>, usize), String> {
    let mut reader = Reader { bytes: section, at: 0 };
    let count = reader.leb()?;
    let mut out = Vec::new();
    write_leb(&mut out, count);
    let mut renamed = 0;
    for _ in 0..count {
        let module_name = reader.name()?;
        let field = reader.name()?;
        let start = reader.at;
        // The import's description: its kind and what the kind needs.
        match reader.byte()? {
            0 => {
                reader.leb()?;
            }
            1 => {
                reader.byte()?;
                reader.limits()?;
            }
            2 => reader.limits()?,
            3 => {
                reader.byte()?;
                reader.byte()?;
            }
            4 => {
                reader.byte()?;
                reader.leb()?;
            }
            kind => return Err(format!("an import of unknown kind {kind}")),
        }
        let description = &section[start..reader.at];
        let field = if module_name == GLUE_MODULE {
            let old = std::str::from_utf8(field).map_err(|_| "an import name that is not UTF-8".to_string())?;
            let new = format!("w{renamed:x}");
            let key = format!("{old}:");
            if glue.matches(old).count() != 1 || glue.matches(&key).count() != 1 {
                return Err(format!("the glue does not name the import {old} exactly once, as a key"));
            }
            *glue = glue.replacen(&key, &format!("{new}:"), 1);
            renamed += 1;
            new.into_bytes()
        } else {
            field.to_vec()
        };
        write_leb(&mut out, module_name.len() as u64);
        out.extend_from_slice(module_name);
        write_leb(&mut out, field.len() as u64);
        out.extend_from_slice(&field);
        out.extend_from_slice(description);
    }
    if reader.at != section.len() {
        return Err("the import section has bytes after its last import".to_string());
    }
    Ok((out, renamed))
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self.bytes.get(self.at).ok_or("the module ends early")?;
        self.at += 1;
        Ok(byte)
    }

    fn leb(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a number longer than 64 bits".to_string())
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(length).filter(|end| *end <= self.bytes.len()).ok_or("the module ends early")?;
        let bytes = &self.bytes[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn name(&mut self) -> Result<&'a [u8], String> {
        let length = self.leb()? as usize;
        self.take(length)
    }

    /// A table's or memory's limits: flags, the minimum, and the maximum when flag bit 0 says so.
    fn limits(&mut self) -> Result<(), String> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module importing a function and a memory from the glue and a function from elsewhere.
    fn module() -> Vec<u8> {
        let mut imports = Vec::new();
        write_leb(&mut imports, 3);
        for (module, field, description) in [
            (&b"./web_bg.js"[..], &b"__wbg_now_0123456789abcdef"[..], &[0u8, 0][..]),
            (b"./web_bg.js", b"__wbindgen_memory", &[2, 1, 17, 200, 1]),
            (b"env", b"__wbg_kept_0123456789abcdef", &[0, 0]),
        ] {
            write_leb(&mut imports, module.len() as u64);
            imports.extend_from_slice(module);
            write_leb(&mut imports, field.len() as u64);
            imports.extend_from_slice(field);
            imports.extend_from_slice(description);
        }
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        // A type section before and a custom section after, which must come through unchanged.
        module.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        module.push(2);
        write_leb(&mut module, imports.len() as u64);
        module.extend_from_slice(&imports);
        module.extend_from_slice(&[0, 3, 2, b'h', b'i']);
        module
    }

    #[test]
    fn imports_from_the_glue_get_short_names_in_both_files_and_nothing_else_changes() {
        let mut glue = "const import0 = { __wbg_now_0123456789abcdef: function() { return Date.now(); }, \
                        __wbindgen_memory: function() { return memory; } };"
            .to_string();
        let (renamed, count) = rename_imports(&module(), &mut glue).unwrap();
        assert_eq!(count, 2);
        assert_eq!(
            glue,
            "const import0 = { w0: function() { return Date.now(); }, w1: function() { return memory; } };"
        );
        let expected = {
            let mut text = module();
            let from = |needle: &[u8], text: &Vec<u8>| text.windows(needle.len()).position(|w| w == needle).unwrap();
            let at = from(b"__wbg_now_0123456789abcdef", &text);
            text.splice(at - 1..at + 26, [2, b'w', b'0']);
            let at = from(b"__wbindgen_memory", &text);
            text.splice(at - 1..at + 17, [2, b'w', b'1']);
            // The import section's size shrinks by what the names lost.
            let size_at = 8 + 6 + 1;
            text[size_at] -= 24 + 15;
            text
        };
        assert_eq!(renamed, expected);
    }

    #[test]
    fn a_name_the_glue_does_not_hold_exactly_once_is_refused() {
        let mut glue = "{ __wbindgen_memory: f }".to_string();
        assert!(rename_imports(&module(), &mut glue).unwrap_err().contains("__wbg_now_0123456789abcdef"));
        let mut glue = "{ __wbg_now_0123456789abcdef: f, __wbindgen_memory: f, g: __wbindgen_memory }".to_string();
        assert!(rename_imports(&module(), &mut glue).unwrap_err().contains("__wbindgen_memory"));
        assert!(rename_imports(b"\0asm\x02\0\0\0", &mut String::new()).is_err());
    }
}
