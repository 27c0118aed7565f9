/* TSIG (RFC 8945) on the wire: the TSIG RR appended to a query, the TSIG
 * RR of a response read into its fields, and the MAC input of each (4.3):
 * what is digested, in which order. The checks a client makes of a
 * response are in dns_tsig.c. Only HMAC-SHA256 (RFC 8945 6: mandatory to
 * implement). No I/O, no allocation; safe on hostile input. */
#ifndef OASIS_DNS_TSIG_WIRE_H
#define OASIS_DNS_TSIG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/hmac_sha256.h"
#include "dns/dns_wire.h"
#include "oasis/dns.h"


/* TSIG's own errors (4.2's Error field; 5.2). */
#define OASIS_DNS_TSIGERR_BADSIG 16
#define OASIS_DNS_TSIGERR_BADKEY 17
#define OASIS_DNS_TSIGERR_BADTIME 18
#define OASIS_DNS_TSIGERR_BADTRUNC 22

#define OASIS_DNS_TSIG_MAC_LEN OASIS_HMAC_SHA256_LEN
/* 5.2.2.1: a MAC shorter than the larger of 10 octets and half the hash
 * output is refused; for SHA-256 that is 16. */
#define OASIS_DNS_TSIG_MIN_MAC 16
/* Our TSIG RR at its longest: key name (255), TYPE CLASS TTL RDLEN (10),
 * "hmac-sha256." (13), Time Signed 6, Fudge 2, MAC Size 2, MAC 32,
 * Original ID 2, Error 2, Other Len 2 (no Other Data in a request). */
#define OASIS_DNS_TSIG_RR_MAX (OASIS_DNS_MAX_NAME + 10 + 13 + 48)

/* A key as the resolver holds it. Names in lowercase wire form: the MAC
 * digests them in canonical form (4.3.3). */
typedef struct oasis_dns_tsig_key {
    oasis_dns_name name;
    oasis_dns_name alg; /* hmac-sha256. */
    uint8_t secret[OASIS_DNS_TSIG_SECRET_MAX];
    size_t secret_len;
    uint16_t fudge;     /* seconds, put in our requests (4.2) */
} oasis_dns_tsig_key;

/* A TSIG RR read from a message (4.2). The message before it (what the
 * MAC covers, 4.3.1) is msg[0 .. off). */
typedef struct oasis_dns_tsig_rr {
    size_t off;           /* where the RR starts */
    oasis_dns_name name;  /* the key name */
    oasis_dns_name alg;   /* the algorithm name */
    uint64_t time_signed; /* 48 bits: seconds since 1970 UTC */
    uint16_t fudge;
    uint16_t mac_size;
    size_t mac_off;
    uint16_t orig_id, error, other_len;
    size_t other_off;
} oasis_dns_tsig_rr;

/* Fills key (name and algorithm from text, the secret copied). Returns 0
 * or OASIS_EINVAL (a bad name, an algorithm other than hmac-sha256, a
 * secret empty or over OASIS_DNS_TSIG_SECRET_MAX). */
int oasis_dns_tsig_key_init(oasis_dns_tsig_key *key, const char *name, const char *alg,
                            const uint8_t *secret, size_t secret_len, uint16_t fudge);

/* Signs the query msg[0 .. *len) (cap octets of room): computes its MAC
 * (4.3.1: the message as it is, then the TSIG variables) with Time Signed
 * now_s, appends the TSIG RR last (Original ID = the message's ID, Error
 * 0, no Other Data) and adds one to ARCOUNT. mac gets the MAC, which the
 * response's digest starts with (4.3.2). Returns 0 with *len updated, or
 * OASIS_EMSGSIZE. */
int oasis_dns_tsig_sign(uint8_t *msg, size_t *len, size_t cap, const oasis_dns_tsig_key *key,
                        uint64_t now_s, uint8_t mac[OASIS_DNS_TSIG_MAC_LEN]);

/* Reads the TSIG RR starting at msg[off] (read_rr bounds already checked
 * by the message parse). Returns 0 or OASIS_EMALFORMED (names that do not
 * read, CLASS not ANY, TTL not 0, fields that do not fill the rdata
 * exactly). */
int oasis_dns_tsig_rr_read(const uint8_t *msg, size_t len, size_t off, oasis_dns_tsig_rr *out);

/* The MAC of a response (4.3.2): the request's MAC with its size first,
 * then the response up to its TSIG RR with ARCOUNT one less and the ID
 * replaced by the Original ID (4.3.1), then the TSIG variables of t
 * (4.3.3) with the key's name and algorithm in canonical form. */
void oasis_dns_tsig_response_mac(const oasis_dns_tsig_key *key, const uint8_t *req_mac,
                                 size_t req_mac_len, const uint8_t *msg,
                                 const oasis_dns_tsig_rr *t, uint8_t out[OASIS_DNS_TSIG_MAC_LEN]);

#endif
