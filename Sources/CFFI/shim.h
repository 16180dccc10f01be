// Debian's libffi (libffi-dev), found with pkg-config. The accessors hand Swift the addresses
// of libffi's built-in type descriptors, which are C globals Swift cannot take the address of
// outside a call.
#ifndef GATEWAYD_CFFI_SHIM_H
#define GATEWAYD_CFFI_SHIM_H
#include <ffi.h>

static inline ffi_type *gwd_ffi_type_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *gwd_ffi_type_sint32(void) { return &ffi_type_sint32; }
static inline ffi_type *gwd_ffi_type_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *gwd_ffi_type_uint64(void) { return &ffi_type_uint64; }
static inline ffi_type *gwd_ffi_type_uint8(void) { return &ffi_type_uint8; }
static inline ffi_type *gwd_ffi_type_double(void) { return &ffi_type_double; }
static inline ffi_abi gwd_ffi_default_abi(void) { return FFI_DEFAULT_ABI; }

#endif
