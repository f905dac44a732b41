/* SPDX-License-Identifier: MIT */
/*
 * route: decides who answers a parsed request: the daemon's own endpoints
 * under /_bucketbridge/ (health), or the S3 API. Checks the Host header
 * first (only local names are served: no DNS rebinding). Loop thread.
 */
#ifndef BB_EMULATOR_ROUTE_H
#define BB_EMULATOR_ROUTE_H

struct http_req;

void route_request(struct http_req *r);
/** Answers a request that could not be parsed or framed (400, 431, 500,
 * 501) with an S3 error body; closes the connection afterwards. */
void route_bad_request(struct http_req *r, int status);
/** 1 when @host (Host header value, may carry a port) names this machine. */
int route_host_is_local(const char *host, unsigned long len);

#endif
