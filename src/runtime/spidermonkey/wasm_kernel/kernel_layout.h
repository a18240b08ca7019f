/* The layout the wasm kernel (kernel.c) and the host (wasm_runtime.cpp) share:
 * the kernel's memory is plain bytes to the host, so both sides must agree on
 * where a block's header sits and what it holds. Plain C: the kernel is C. */
#ifndef OUTLET_WASM_KERNEL_LAYOUT_H
#define OUTLET_WASM_KERNEL_LAYOUT_H

/* A block's header precedes its data; a handle is the address of the data. The
 * magic word mixes in the handle, so a stale or made-up handle is recognized
 * (almost always: the plugin can write anywhere in kernel memory, so the host
 * treats every header as untrusted and bounds-checks every access). */
#define OUTLET_KERNEL_HEADER_BYTES 32u
#define OUTLET_KERNEL_MAGIC_USED 0x6f75746cu /* "outl" */
#define OUTLET_KERNEL_MAGIC_FREE 0x66726565u /* "free" */
#define OUTLET_KERNEL_HEADER_MAGIC 0u        /* u32: magic ^ (u32)handle */
#define OUTLET_KERNEL_HEADER_CAPACITY 8u     /* u64: bytes of data the block holds */
#define OUTLET_KERNEL_HEADER_LENGTH 16u      /* u64: bytes asked for (what length() says) */
#define OUTLET_KERNEL_HEADER_PREVIOUS 24u    /* u64: capacity of the block before (0: first) */

/* What a call left behind, at the address `state_address()` returns. */
#define OUTLET_KERNEL_STATE_INPUT_OFFSET 0u   /* u64 */
#define OUTLET_KERNEL_STATE_INPUT_LENGTH 8u   /* u64 */
#define OUTLET_KERNEL_STATE_OUTPUT_OFFSET 16u /* u64 */
#define OUTLET_KERNEL_STATE_OUTPUT_LENGTH 24u /* u64 */
#define OUTLET_KERNEL_STATE_ERROR 32u         /* u64: handle of the error message, 0 = none */
#define OUTLET_KERNEL_STATE_BYTES 40u

#endif
