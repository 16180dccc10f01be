#include "CSwiftCompilerStamp.h"

/* A string, not a function: the host reads a plugin's without running plugin code. `used`
 * keeps it in an object nothing in the plugin refers to; the version script exports it. */
__attribute__((visibility("default"), used)) const char gwd_swift_compiler[] = GWD_SWIFT_COMPILER;

const char *gwd_swift_compiler_of_this_binary(void) { return gwd_swift_compiler; }
