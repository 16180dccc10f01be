#ifndef CSWIFTCOMPILERSTAMP_H
#define CSWIFTCOMPILERSTAMP_H
/* The Swift compiler (major.minor, e.g. "6.3") that built this binary, from Package.swift:
 * the text of `gwd_swift_compiler` (gatewayd.h's GWD_SWIFT_COMPILER_SYMBOL), which every Swift
 * plugin exports and the host reads in the plugin before calling its entry. */
const char *gwd_swift_compiler_of_this_binary(void);
#endif
