// Debian's OpenSSL (libssl-dev), found with pkg-config: TLS for wss:// client listeners. A few
// of the calls a server needs are macros over SSL_ctrl / SSL_CTX_ctrl, which Swift cannot
// call; these wrappers do.
#ifndef GATEWAYD_CTLS_SHIM_H
#define GATEWAYD_CTLS_SHIM_H
#include <openssl/err.h>
#include <openssl/ssl.h>

static inline int gwd_ssl_ctx_set_min_proto_version(SSL_CTX *context, int version) {
    return (int)SSL_CTX_set_min_proto_version(context, version);
}

static inline long gwd_ssl_ctx_set_mode(SSL_CTX *context, long mode) { return SSL_CTX_set_mode(context, mode); }

static inline long gwd_ssl_mode_release_buffers(void) { return SSL_MODE_RELEASE_BUFFERS; }
static inline long gwd_ssl_mode_enable_partial_write(void) { return SSL_MODE_ENABLE_PARTIAL_WRITE; }
static inline long gwd_ssl_mode_accept_moving_write_buffer(void) { return SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; }
static inline uint64_t gwd_ssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }
static inline int gwd_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int gwd_tls1_3_version(void) { return TLS1_3_VERSION; }

#endif
