// Nothing to compile: the module only declares libFuzzer's driver (see include/CLibFuzzer.h).
#include "CLibFuzzer.h"
