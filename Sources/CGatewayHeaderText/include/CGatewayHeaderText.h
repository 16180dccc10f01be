#ifndef CGATEWAYHEADERTEXT_H
#define CGATEWAYHEADERTEXT_H
/* The text of include/gatewayd.h, embedded at build time, so `gatewayd plugin build` can
 * compile C plugins against exactly the ABI this binary implements, wherever it is installed. */
const char *gwd_abi_header_text(void);
#endif
