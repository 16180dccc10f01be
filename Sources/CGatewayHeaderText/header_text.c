#include "CGatewayHeaderText.h"

#pragma clang diagnostic ignored "-Wc23-extensions"

static const char header_text[] = {
#embed "../../include/gatewayd.h"
    , 0
};

const char *gwd_abi_header_text(void) { return header_text; }
