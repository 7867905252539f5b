// asc transform (plain JS: asc loads it in-process). Two jobs after compilation:
// 1. rename exports to their component-model names, which AssemblyScript identifiers cannot spell;
// 2. meter fuel: every loop iteration burns one unit, every export entry refills the budget,
//    so a reflex stuck in a loop traps (`unreachable`) instead of hanging its host. The meter
//    lives inside the module, so it holds under Spin as well as in the embedded host.
import { Transform } from 'assemblyscript/transform';

const FUEL = 'kgents/fuel';
const BURN = 'kgents/burn';

/** Which fields of binaryen's getExpressionInfo() hold child expressions, per expression id. */
function childFields(binaryen) {
  return new Map([
    [binaryen.BlockId, ['children']],
    [binaryen.IfId, ['condition', 'ifTrue', 'ifFalse']],
    [binaryen.LoopId, ['body']],
    [binaryen.BreakId, ['condition', 'value']],
    [binaryen.SwitchId, ['condition', 'value']],
    [binaryen.CallId, ['operands']],
    [binaryen.CallIndirectId, ['target', 'operands']],
    [binaryen.LocalSetId, ['value']],
    [binaryen.GlobalSetId, ['value']],
    [binaryen.LoadId, ['ptr']],
    [binaryen.StoreId, ['ptr', 'value']],
    [binaryen.UnaryId, ['value']],
    [binaryen.BinaryId, ['left', 'right']],
    [binaryen.SelectId, ['ifTrue', 'ifFalse', 'condition']],
    [binaryen.DropId, ['value']],
    [binaryen.ReturnId, ['value']],
    [binaryen.MemoryGrowId, ['delta']],
    [binaryen.MemoryCopyId, ['dest', 'source', 'size']],
    [binaryen.MemoryFillId, ['dest', 'value', 'size']],
  ]);
}

export function createReflexTransform({ renames, fuelBudget, meteredExports }) {
  // A class, not an instance: asc then injects its own binaryen build (this.binaryen), which
  // must be the same one that produced the module.
  return class extends Transform {
    afterCompile(module) {
      const binaryen = this.binaryen;
      
      // asc hands over a binaryen.js module wrapper.
      const mod = module;
      const i32 = binaryen.i32;
      mod.addGlobal(FUEL, i32, true, mod.i32.const(0));

      const burnInline = () =>
        mod.block(null, [
          mod.if(mod.i32.eqz(mod.global.get(FUEL, i32)), mod.unreachable()),
          mod.global.set(FUEL, mod.i32.sub(mod.global.get(FUEL, i32), mod.i32.const(1))),
        ]);
      // Written out, the meter costs 14 bytes a loop (250 of a reflex); as a call, 2. A loop that
      // calls functions anyway gets the call; a loop that calls none (the per-byte loops: UTF-8,
      // scanning, parsing) keeps it written out, where a call each byte doubled the time
      // (a sensor's tick over 100 deposits: 16 µs -> 29).
      mod.addFunction(BURN, binaryen.none, binaryen.none, [], burnInline());
      const burnCall = () => mod.call(BURN, [], binaryen.none);

      const fields = childFields(binaryen);
      const calls = new Set([binaryen.CallId, binaryen.CallIndirectId]);
      const seen = new Map();
      /** Meters the loops under `expr`; returns whether it makes a call. */
      const walk = (expr) => {
        if (!expr) return false;
        if (seen.has(expr)) return seen.get(expr);
        const id = binaryen._BinaryenExpressionGetId(expr);
        let hasCall = calls.has(id);
        // Leaves have no children (and getExpressionInfo fails on some of them).
        const childNames = fields.get(id);
        if (childNames) {
          const info = binaryen.getExpressionInfo(expr);
          for (const field of childNames) {
            const child = info[field];
            for (const c of Array.isArray(child) ? child : [child]) hasCall = walk(c) || hasCall;
          }
          if (info.id === binaryen.LoopId) {
            const meter = hasCall ? burnCall() : burnInline();
            binaryen._BinaryenLoopSetBody(expr, mod.block(null, [meter, info.body], binaryen.getExpressionType(info.body)));
          }
        }
        seen.set(expr, hasCall);
        return hasCall;
      };

      const exportTargets = new Map();
      for (let i = 0, n = mod.getNumExports(); i < n; i++) {
        const info = binaryen.getExportInfo(mod.getExportByIndex(i));
        if (info.kind === binaryen.ExternalFunction) exportTargets.set(info.name, info.value);
      }

      for (let i = 0, n = mod.getNumFunctions(); i < n; i++) {
        const fn = mod.getFunctionByIndex(i);
        const info = binaryen.getFunctionInfo(fn);
        if (info.body) walk(info.body);
      }

      // Refill at each metered entry point.
      for (const name of meteredExports) {
        const internal = exportTargets.get(name);
        if (!internal) continue;
        const fn = mod.getFunction(internal);
        const info = binaryen.getFunctionInfo(fn);
        const refill = mod.global.set(FUEL, mod.i32.const(fuelBudget));
        binaryen._BinaryenFunctionSetBody(fn, mod.block(null, [refill, info.body], info.results));
      }

      for (const [from, to] of Object.entries(renames)) {
        const internal = exportTargets.get(from);
        if (!internal) continue;
        mod.removeExport(from);
        mod.addFunctionExport(internal, to);
      }
    }
  };
}
