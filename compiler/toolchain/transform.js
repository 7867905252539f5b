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

      // One function, called at the top of every loop: written out in each loop the meter cost
      // 14 bytes a loop, 250 bytes of a reflex; the call costs 2.
      mod.addFunction(
        BURN,
        binaryen.none,
        binaryen.none,
        [],
        mod.block(null, [
          mod.if(mod.i32.eqz(mod.global.get(FUEL, i32)), mod.unreachable()),
          mod.global.set(FUEL, mod.i32.sub(mod.global.get(FUEL, i32), mod.i32.const(1))),
        ]),
      );
      const burn = () => mod.call(BURN, [], binaryen.none);

      const fields = childFields(binaryen);
      const seen = new Set();
      const walk = (expr) => {
        if (!expr || seen.has(expr)) return;
        seen.add(expr);
        // Leaves have no children (and getExpressionInfo fails on some of them).
        const childNames = fields.get(binaryen._BinaryenExpressionGetId(expr));
        if (!childNames) return;
        const info = binaryen.getExpressionInfo(expr);
        for (const field of childNames) {
          const child = info[field];
          if (Array.isArray(child)) child.forEach(walk);
          else if (child) walk(child);
        }
        if (info.id === binaryen.LoopId) {
          binaryen._BinaryenLoopSetBody(expr, mod.block(null, [burn(), info.body], binaryen.getExpressionType(info.body)));
        }
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
