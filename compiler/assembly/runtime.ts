// The reflex runtime, in place of asc's stub (asc-worker.js swaps it in): one bump arena, emptied
// after every call (resetArena).
//
// The arena's top lives in a memory word rather than a global, because the component's heap
// module (compiler/toolchain/heap-module.ts) owns the memory and allocates from the same arena
// when the host lowers strings and lists into it; a module cannot share a global with a module
// instantiated before it without importing it, and wit-component accepts no such import.
// Block and object headers are AssemblyScript's (rt/common), so strings and arrays work as ever.

import { AL_MASK, BLOCK, BLOCK_MAXSIZE, BLOCK_OVERHEAD, OBJECT, OBJECT_OVERHEAD } from "~lib/rt/common";

/** Address of the arena's top: the next block header. Below memoryBase; heap-module.ts reads it too. */
// @ts-ignore: decorator
@inline const ARENA_TOP: usize = 8;

// @ts-ignore: decorator
@lazy const ARENA_START: usize = ((__heap_base + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;

store<usize>(ARENA_TOP, ARENA_START);

// @ts-ignore: decorator
@inline function payloadFor(size: usize): usize {
  if (size > BLOCK_MAXSIZE) unreachable();
  return ((size + BLOCK_OVERHEAD + AL_MASK) & ~AL_MASK) - BLOCK_OVERHEAD;
}

/** Makes the block at `ptr` the last one, `payload` bytes long, growing memory to hold it. */
function place(ptr: usize, payload: usize): void {
  const end = ptr + payload;
  const have = <usize>memory.size() << 16;
  if (end > have && memory.grow(<i32>((end - have + 0xffff) >>> 16)) < 0) unreachable();
  changetype<BLOCK>(ptr - BLOCK_OVERHEAD).mmInfo = payload;
  store<usize>(ARENA_TOP, end);
}

// @ts-ignore: decorator
@global @unsafe
function __alloc(size: usize): usize {
  const ptr = load<usize>(ARENA_TOP) + BLOCK_OVERHEAD;
  place(ptr, payloadFor(size));
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
function __realloc(ptr: usize, size: usize): usize {
  const payload = changetype<BLOCK>(ptr - BLOCK_OVERHEAD).mmInfo;
  if (ptr + payload == load<usize>(ARENA_TOP)) {
    place(ptr, payloadFor(size));
    return ptr;
  }
  if (size <= payload) return ptr;
  const moved = __alloc(max<usize>(size, payload << 1));
  memory.copy(moved, ptr, payload);
  return moved;
}

/** Only the last block can go back early (a body read in chunks frees each after copying it). */
// @ts-ignore: decorator
@global @unsafe
function __free(ptr: usize): void {
  if (ptr + changetype<BLOCK>(ptr - BLOCK_OVERHEAD).mmInfo == load<usize>(ARENA_TOP)) store<usize>(ARENA_TOP, ptr - BLOCK_OVERHEAD);
}

// @ts-ignore: decorator
@global @unsafe
function __reset(): void {
  store<usize>(ARENA_TOP, ARENA_START);
}

// @ts-ignore: decorator
@global @unsafe
function __new(size: usize, id: u32): usize {
  const ptr = __alloc(OBJECT_OVERHEAD + size);
  const object = changetype<OBJECT>(ptr - BLOCK_OVERHEAD);
  object.rtId = id;
  object.rtSize = <u32>size;
  return ptr + OBJECT_OVERHEAD;
}

// @ts-ignore: decorator
@global @unsafe
function __renew(oldPtr: usize, size: usize): usize {
  const ptr = __realloc(oldPtr - OBJECT_OVERHEAD, OBJECT_OVERHEAD + size);
  changetype<OBJECT>(ptr - BLOCK_OVERHEAD).rtSize = <u32>size;
  return ptr + OBJECT_OVERHEAD;
}

// Nothing is collected: the arena is emptied whole.

// @ts-ignore: decorator
@global @unsafe
function __link(parentPtr: usize, childPtr: usize, expectMultiple: bool): void {}

// @ts-ignore: decorator
@global @unsafe
function __pin(ptr: usize): usize {
  return ptr;
}

// @ts-ignore: decorator
@global @unsafe
function __unpin(ptr: usize): void {}

// @ts-ignore: decorator
@global @unsafe
function __visit(ptr: usize, cookie: u32): void {}

// @ts-ignore: decorator
@global @unsafe
function __collect(): void {}
