// libFuzzer's entry points, which -sanitize=fuzzer links in (clang's FuzzerInterface.h).
#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// Parses libFuzzer's command line and runs the fuzzing loop (or the given inputs) on `callback`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
