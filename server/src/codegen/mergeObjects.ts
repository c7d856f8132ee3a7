// Joins the objects of one module's parts (splitModule.ts) into one relocatable object, as `ld -r` would, for the
// one kind of object LLVM emits here: every section is kept as it is (the loader lays out any number of them, an
// .eh_frame per part included), relocations are renumbered to the joined symbol table, and a global defined in one
// part satisfies the other parts' references to it. Symbol tables, string tables and address-significance tables
// are rebuilt or dropped; anything else unexpected (section groups, a name defined twice) is refused.
import {
  readElf, SHN_ABS, SHN_COMMON, SHN_UNDEF, SHT_GROUP, SHT_NOBITS, SHT_RELA, SHT_STRTAB, SHT_SYMTAB, STB_LOCAL, STB_WEAK,
  type ElfObject, type ElfSymbol,
} from './elf.ts';

const SHT_LLVM_ADDRSIG = 0x6fff4c03;
const SHF_INFO_LINK = 0x40n;
const EHDR = 64;
const SHDR = 64;
const SYM = 24;
const RELA = 24;

interface OutSection {
  name: string;
  type: number;
  flags: bigint;
  align: number;
  entsize: number;
  link: number;
  info: number;
  data: Uint8Array;
  /** SHT_NOBITS: the size without bytes */
  size: number;
}

interface OutSymbol {
  name: string;
  info: number;
  other: number;
  shndx: number;
  value: bigint;
  size: bigint;
}

class Strings {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private readonly parts: Buffer[] = [Buffer.alloc(1)];
  private length = 1;
  add(s: string): number {
    let off = this.offsets.get(s);
    if (off === undefined) {
      off = this.length;
      const b = Buffer.from(`${s}\0`, 'latin1');
      this.parts.push(b);
      this.length += b.length;
      this.offsets.set(s, off);
    }
    return off;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

export function mergeObjects(objects: Uint8Array[]): Buffer {
  if (objects.length === 1) return Buffer.from(objects[0]);
  const elves = objects.map((o) => readElf(o));
  const sections: OutSection[] = [];
  const sectionMaps = elves.map((elf, k) => keptSections(elf, objects[k], sections));
  const { symbols, firstGlobal, symbolMaps } = joinSymbols(elves, sectionMaps);
  const relocated = elves.map((elf, k) => relocatedSections(elf, sectionMaps[k]));
  const symtabIndex = 1 + sections.length + relocated.reduce((n, r) => n + r.length, 0);
  relocated.forEach((list, k) => {
    for (const [target, relocs] of list) {
      const t = sectionMaps[k].get(target)!;
      const data = relocationBytes(relocs, symbolMaps[k], k);
      sections.push({ name: `.rela${sections[t - 1].name}`, type: SHT_RELA, flags: SHF_INFO_LINK, align: 8, entsize: RELA, link: symtabIndex, info: t, data, size: data.length });
    }
  });
  const strtab = new Strings();
  const symtab = Buffer.alloc(symbols.length * SYM);
  symbols.forEach((s, i) => {
    symtab.writeUInt32LE(strtab.add(s.name), i * SYM);
    symtab[i * SYM + 4] = s.info;
    symtab[i * SYM + 5] = s.other;
    symtab.writeUInt16LE(s.shndx, i * SYM + 6);
    symtab.writeBigUInt64LE(s.value, i * SYM + 8);
    symtab.writeBigUInt64LE(s.size, i * SYM + 16);
  });
  sections.push({ name: '.symtab', type: SHT_SYMTAB, flags: 0n, align: 8, entsize: SYM, link: symtabIndex + 1, info: firstGlobal, data: symtab, size: symtab.length });
  const strData = strtab.bytes();
  sections.push({ name: '.strtab', type: SHT_STRTAB, flags: 0n, align: 1, entsize: 0, link: 0, info: 0, data: strData, size: strData.length });
  return writeObject(objects[0], sections);
}

function relocationBytes(relocs: ElfObject['relocations'], symbolMap: Map<number, number>, part: number): Buffer {
  const data = Buffer.alloc(relocs.length * RELA);
  relocs.forEach((r, i) => {
    const sym = r.symbol.index === 0 ? 0 : symbolMap.get(r.symbol.index);
    if (sym === undefined) throw new Error(`part ${part}: a relocation uses symbol ${r.symbol.name || r.symbol.index}, which is not kept`);
    data.writeBigUInt64LE(r.offset, i * RELA);
    data.writeBigUInt64LE((BigInt(sym) << 32n) | BigInt(r.type), i * RELA + 8);
    data.writeBigInt64LE(r.addend, i * RELA + 16);
  });
  return data;
}

/** Copies every section but the tables this file rebuilds; returns old index -> new index. */
function keptSections(elf: ElfObject, bytes: Uint8Array, out: OutSection[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const s of elf.sections) {
    if (s.index === 0 || s.type === SHT_SYMTAB || s.type === SHT_STRTAB || s.type === SHT_RELA || s.type === SHT_LLVM_ADDRSIG) continue;
    if (s.type === SHT_GROUP) throw new Error(`section group ${s.name}: not supported`);
    if (s.link !== 0) throw new Error(`section ${s.name} links section ${s.link}: not supported`);
    const data = s.type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size);
    out.push({ name: s.name, type: s.type, flags: s.flags, align: s.addralign, entsize: s.entsize, link: 0, info: s.info, data, size: s.size });
    map.set(s.index, out.length); // index 0 is the null section
  }
  return map;
}

/** The relocations of each kept section, in file order. */
function relocatedSections(elf: ElfObject, kept: Map<number, number>): [number, ElfObject['relocations']][] {
  const by = new Map<number, ElfObject['relocations']>();
  for (const r of elf.relocations) {
    if (!kept.has(r.target.index)) continue;
    let list = by.get(r.target.index);
    if (!list) by.set(r.target.index, (list = []));
    list.push(r);
  }
  return [...by];
}

/** Locals of every part, then one global per name (its definition if a part has one). */
function joinSymbols(elves: ElfObject[], sectionMaps: Map<number, number>[]) {
  const locals: OutSymbol[] = [{ name: '', info: 0, other: 0, shndx: 0, value: 0n, size: 0n }];
  const globals = new Map<string, { sym: OutSymbol; defined: boolean; weak: boolean }>();
  const pending: [number, number, string][] = [];
  const symbolMaps = elves.map(() => new Map<number, number>());
  elves.forEach((elf, k) => {
    for (const s of elf.symbols) {
      if (s.index === 0) continue;
      const shndx = mapIndex(s, sectionMaps[k]);
      if (shndx === undefined) continue; // a symbol of a dropped section
      const out = { name: s.name, info: (s.bind << 4) | s.type, other: s.other, shndx, value: s.value, size: s.size };
      if (s.bind === STB_LOCAL) {
        symbolMaps[k].set(s.index, locals.length);
        locals.push(out);
        continue;
      }
      if (shndx === SHN_COMMON) throw new Error(`common symbol ${s.name}: not supported`);
      const defined = shndx !== SHN_UNDEF;
      const had = globals.get(s.name);
      if (!had || (defined && !had.defined)) globals.set(s.name, { sym: out, defined, weak: s.bind === STB_WEAK });
      else if (defined && !(had.weak && s.bind === STB_WEAK)) throw new Error(`symbol ${s.name} is defined in two parts`);
      pending.push([k, s.index, s.name]);
    }
  });
  const order = [...globals.keys()];
  const at = new Map(order.map((n, i) => [n, locals.length + i]));
  for (const [k, index, name] of pending) symbolMaps[k].set(index, at.get(name)!);
  return { symbols: [...locals, ...order.map((n) => globals.get(n)!.sym)], firstGlobal: locals.length, symbolMaps };
}

function mapIndex(s: ElfSymbol, sections: Map<number, number>): number | undefined {
  if (s.shndx === SHN_UNDEF || s.shndx === SHN_ABS || s.shndx === SHN_COMMON) return s.shndx;
  return sections.get(s.shndx);
}

/** Header (copied from the first part: same machine, ABI and flags), section bytes, section table, names. */
function writeObject(first: Uint8Array, sections: OutSection[]): Buffer {
  const names = new Strings();
  const nameOffsets = sections.map((s) => names.add(s.name));
  const shstrName = names.add('.shstrtab');
  const shstr = names.bytes();
  const all = [...sections, { name: '.shstrtab', type: SHT_STRTAB, flags: 0n, align: 1, entsize: 0, link: 0, info: 0, data: shstr, size: shstr.length }];
  const offsets: number[] = [];
  let at = EHDR;
  for (const s of all) {
    at = alignUp(at, Math.max(1, s.align));
    offsets.push(at);
    at += s.type === SHT_NOBITS ? 0 : s.data.length;
  }
  const shoff = alignUp(at, 8);
  const out = Buffer.alloc(shoff + (all.length + 1) * SHDR);
  Buffer.from(first.subarray(0, EHDR)).copy(out);
  out.writeBigUInt64LE(BigInt(shoff), 40);
  out.writeUInt16LE(all.length + 1, 60);
  out.writeUInt16LE(all.length, 62);
  all.forEach((s, i) => {
    if (s.type !== SHT_NOBITS) out.set(s.data, offsets[i]);
    const h = shoff + (i + 1) * SHDR;
    out.writeUInt32LE(i < sections.length ? nameOffsets[i] : shstrName, h);
    out.writeUInt32LE(s.type, h + 4);
    out.writeBigUInt64LE(s.flags, h + 8);
    out.writeBigUInt64LE(BigInt(offsets[i]), h + 24);
    out.writeBigUInt64LE(BigInt(s.size), h + 32);
    out.writeUInt32LE(s.link, h + 40);
    out.writeUInt32LE(s.info, h + 44);
    out.writeBigUInt64LE(BigInt(s.align), h + 48);
    out.writeBigUInt64LE(BigInt(s.entsize), h + 56);
  });
  return out;
}

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;
