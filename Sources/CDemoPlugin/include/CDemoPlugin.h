#ifndef CDEMOPLUGIN_H
#define CDEMOPLUGIN_H
#include "../../../include/gatewayd.h"
/* The demo plugin linked into gatewayd, used when no --plugin is given: the push demo of
 * examples/push. Same entry signature as a plugin's gwd_plugin_entry_v1. */
int32_t gwd_demo_plugin_entry(const gwd_host_api *api, const gwd_plugin **out, char *error, size_t error_len);
#endif
