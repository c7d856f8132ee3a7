// A small reader for ELF64 little-endian relocatable objects (ET_REL; anything else is refused): sections, symbols, RELA relocations. Every offset
// read from the file is bounds-checked, so a truncated or hostile object gives an ElfError, never garbage.

export class ElfError extends Error {
  constructor(message: string) {
    super(`invalid ELF object: ${message}`);
    this.name = 'ElfError';
  }
}

export const ET_REL = 1;
export const EM_X86_64 = 62;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_GROUP = 17;
export const SHT_REL = 9;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_TLS = 6;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  bind: number;
  type: number;
  /** st_other: the visibility */
  other: number;
  /** section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON */
  shndx: number;
  value: bigint;
  size: bigint;
}

export interface ElfRelocation {
  /** the section the relocation patches */
  target: ElfSection;
  offset: bigint;
  type: number;
  symbol: ElfSymbol;
  addend: bigint;
}

export interface ElfObject {
  type: number;
  machine: number;
  sections: ElfSection[];
  symbols: ElfSymbol[];
  relocations: ElfRelocation[];
}

export function readElf(bytes: Uint8Array): ElfObject {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, len: number, what: string) => {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > bytes.length) {
      throw new ElfError(`${what} at ${off}+${len} lies outside the ${bytes.length}-byte file`);
    }
  };
  const u64 = (off: number, what: string) => {
    const v = view.getBigUint64(off, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} is too large (${v})`);
    return Number(v);
  };

  need(0, 64, 'ELF header');
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new ElfError('bad magic');
  if (bytes[4] !== 2) throw new ElfError('not ELF64');
  if (bytes[5] !== 1) throw new ElfError('not little-endian');
  const type = view.getUint16(16, true);
  if (type !== ET_REL) throw new ElfError(`type ${type} is not a relocatable object (ET_REL)`);
  const machine = view.getUint16(18, true);
  const shoff = u64(40, 'e_shoff');
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (shnum === 0) throw new ElfError('no section headers');
  if (shentsize < 64) throw new ElfError(`section header size ${shentsize}`);
  need(shoff, shnum * shentsize, 'section header table');

  const raw: ElfSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * shentsize;
    const s: ElfSection = {
      index: i,
      name: '',
      type: view.getUint32(h + 4, true),
      flags: view.getBigUint64(h + 8, true),
      offset: u64(h + 24, `section ${i} offset`),
      size: u64(h + 32, `section ${i} size`),
      link: view.getUint32(h + 40, true),
      info: view.getUint32(h + 44, true),
      addralign: u64(h + 48, `section ${i} alignment`),
      entsize: u64(h + 56, `section ${i} entsize`),
    };
    const nobits = s.type === SHT_NOBITS; // .bss occupies no file bytes
    if (!nobits && s.type !== 0) need(s.offset, s.size, `section ${i}`);
    raw.push(s);
  }
  const section = (i: number, what: string) => {
    const s = raw[i];
    if (!s) throw new ElfError(`${what} refers to section ${i} of ${raw.length}`);
    return s;
  };
  const stringAt = (table: ElfSection, off: number) => {
    if (table.type !== SHT_STRTAB) throw new ElfError(`section ${table.index} is not a string table`);
    if (off >= table.size) throw new ElfError(`string offset ${off} outside section ${table.index}`);
    const start = table.offset + off;
    const end = bytes.indexOf(0, start);
    if (end < 0 || end >= table.offset + table.size) throw new ElfError(`unterminated string in section ${table.index}`);
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  };
  const shstr = section(shstrndx, 'e_shstrndx');
  for (const s of raw) s.name = stringAt(shstr, view.getUint32(shoff + s.index * shentsize, true));

  // Relocatable objects produced by LLVM have exactly one symbol table.
  const symtabs = raw.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) throw new ElfError(`${symtabs.length} symbol tables`);
  const symbols: ElfSymbol[] = [];
  const symtab = symtabs[0];
  if (symtab) {
    if (symtab.entsize !== 24) throw new ElfError(`symbol entry size ${symtab.entsize}`);
    const strtab = section(symtab.link, 'symtab sh_link');
    for (let i = 0; i < symtab.size / 24; i++) {
      const e = symtab.offset + i * 24;
      const info = bytes[e + 4];
      symbols.push({
        index: i,
        name: stringAt(strtab, view.getUint32(e, true)),
        bind: info >> 4,
        type: info & 0xf,
        other: bytes[e + 5],
        shndx: view.getUint16(e + 6, true),
        value: view.getBigUint64(e + 8, true),
        size: view.getBigUint64(e + 16, true),
      });
    }
  }

  const relocations: ElfRelocation[] = [];
  for (const s of raw) {
    if (s.type === SHT_REL) throw new ElfError(`section ${s.name} uses REL relocations (x86-64 objects use RELA)`);
    if (s.type !== SHT_RELA) continue;
    if (s.entsize !== 24) throw new ElfError(`relocation entry size ${s.entsize} in ${s.name}`);
    if (!symtab || s.link !== symtab.index) throw new ElfError(`relocation section ${s.name} does not use the symbol table`);
    const target = section(s.info, `relocation section ${s.name}`);
    for (let i = 0; i < s.size / 24; i++) {
      const e = s.offset + i * 24;
      const info = view.getBigUint64(e + 8, true);
      const symIndex = Number(info >> 32n);
      const symbol = symbols[symIndex];
      if (!symbol) throw new ElfError(`relocation ${i} in ${s.name} refers to symbol ${symIndex} of ${symbols.length}`);
      const offset = view.getBigUint64(e, true);
      if (offset >= BigInt(target.size)) throw new ElfError(`relocation ${i} in ${s.name} patches offset ${offset} outside ${target.name}`);
      relocations.push({ target, offset, type: Number(info & 0xffffffffn), symbol, addend: view.getBigInt64(e + 16, true) });
    }
  }
  return { type, machine, sections: raw, symbols, relocations };
}
