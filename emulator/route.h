/* SPDX-License-Identifier: MIT */
/*
 * route: decides who answers a parsed request: the daemon's own endpoints
 * under /_bucketbridge/ (health), or the S3 API. Checks the Host header
 * first (only local names are served: no DNS rebinding). Loop thread.
 */
#ifndef BB_EMULATOR_ROUTE_H
#define BB_EMULATOR_ROUTE_H

#include <stddef.h>

struct http_req;

void route_request(struct http_req *r);
/** Answers a request that could not be parsed or framed (400, 431, 500,
 * 501) with an S3 error body; closes the connection afterwards. */
void route_bad_request(struct http_req *r, int status);
/** 1 when @host (Host header value, may carry a port) names this machine. */
int route_host_is_local(const char *host, unsigned long len);

struct config;
/** 1 when @host names this machine or a configured virtual-host domain
 * (cfg->vhost_domains), with or without a bucket label in front. */
int route_host_allowed(const struct config *cfg, const char *host, size_t len);
/**
 * Virtual-host style: when @host is "<bucket>.<domain>[:port]" for a
 * configured domain (the longest that fits), writes the bucket (lowercased)
 * to @out (size @n) and returns its length; 0 for path style.
 */
size_t route_vhost_bucket(const struct config *cfg, const char *host, size_t len, char *out,
                          size_t n);

#endif
