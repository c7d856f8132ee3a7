// Code generation of one module on several threads. Every part is the whole module, parsed into a context of its
// own: the functions of the other parts are made `available_externally` (LLVM's code generation emits no code for
// them; the part's code calls them by name) and the global variables are defined in part 0 only. Local functions and
// variables become hidden globals first, named if they were unnamed, so the parts' objects refer to each other by
// name and mergeObjects.ts joins them into the one object the cache holds. Every part goes through the same steps,
// so names and the assignment are the same in all of them.
import { Linkage, Visibility, type Llvm, type Ptr } from './llvm.ts';

/** Below this many instructions per part, a second parse and thread cost more than they save. */
export const MIN_PART_INSTRUCTIONS = 2500;

/** The module's defined functions, in module order. */
export function definedFunctions(llvm: Llvm, mod: Ptr): Ptr[] {
  const out: Ptr[] = [];
  for (let f = llvm.firstFunction(mod); f; f = llvm.nextFunction(f)) if (!llvm.isDeclaration(f)) out.push(f);
  return out;
}

/** Instruction count per function: what code generation's time follows. */
export function functionSizes(llvm: Llvm, fns: Ptr[]): number[] {
  return fns.map((f) => {
    let n = 0;
    for (let b = llvm.firstBlock(f); b; b = llvm.nextBlock(b)) for (let i = llvm.firstInstruction(b); i; i = llvm.nextInstruction(i)) n++;
    return n;
  });
}

/** How many parts a module of these function sizes is worth splitting into, at most `wanted`. */
export function partCount(llvm: Llvm, mod: Ptr, sizes: number[], wanted: number, minInstructions = MIN_PART_INSTRUCTIONS): number {
  if (wanted < 2 || llvm.firstAlias(mod) || llvm.firstIFunc(mod)) return 1;
  const total = sizes.reduce((a, b) => a + b, 0);
  return Math.max(1, Math.min(wanted, sizes.length, Math.floor(total / minInstructions)));
}

/** Part per function: the largest first, each to the lightest part (deterministic: ties by module order). */
export function assignParts(sizes: number[], parts: number): number[] {
  const order = sizes.map((_, i) => i).sort((a, b) => sizes[b] - sizes[a] || a - b);
  const load = new Array<number>(parts).fill(0);
  const part = new Array<number>(sizes.length);
  for (const i of order) {
    const p = load.indexOf(Math.min(...load));
    load[p] += sizes[i];
    part[i] = p;
  }
  return part;
}

/** Makes `mod` part `k` of `assignment` (per defined function, in module order). */
export function keepPart(llvm: Llvm, mod: Ptr, assignment: number[], k: number): void {
  const fns = definedFunctions(llvm, mod);
  if (fns.length !== assignment.length) throw new Error(`part ${k}: ${fns.length} functions, ${assignment.length} assigned`);
  let unnamed = 0;
  const share = (g: Ptr) => {
    if (!llvm.valueName(g, [0])) {
      const name = `jlpart_${unnamed++}`;
      llvm.setValueName(g, name, name.length);
    }
    const l = llvm.getLinkage(g);
    if (l === Linkage.Internal || l === Linkage.Private) {
      llvm.setLinkage(g, Linkage.External);
      llvm.setVisibility(g, Visibility.Hidden);
    }
  };
  fns.forEach((f, i) => {
    share(f);
    if (assignment[i] !== k) llvm.setLinkage(f, Linkage.AvailableExternally);
  });
  const globals: Ptr[] = [];
  for (let g = llvm.firstGlobal(mod); g; g = llvm.nextGlobal(g)) if (!llvm.isDeclaration(g)) globals.push(g);
  for (const g of globals) {
    if (llvm.getLinkage(g) === Linkage.Appending) {
      if (k !== 0) llvm.deleteGlobal(g); // llvm.used and the like: one copy
      continue;
    }
    share(g);
    if (k !== 0) {
      llvm.setInitializer(g, null);
      llvm.setLinkage(g, Linkage.External);
    }
  }
}
