/* What a TSIG client checks of a response to its signed query (RFC 8945
 * 5.4, which does the checks of 5.2 in their order: key, MAC, time,
 * truncation). The resolver (dns.c) counts the verdict and decides. */
#ifndef OASIS_DNS_TSIG_H
#define OASIS_DNS_TSIG_H

#include "dns/dns_tsig_wire.h"

typedef enum oasis_dns_tsig_verdict {
    OASIS_DNS_TSIG_OK = 0,
    OASIS_DNS_TSIG_UNSIGNED,  /* no TSIG RR, or one without a MAC (5.3.2) */
    OASIS_DNS_TSIG_BADKEY,    /* another key name or algorithm (5.2.1) */
    OASIS_DNS_TSIG_BADTRUNC,  /* MAC Size over the hash or under the minimum (5.2.2.1) */
    OASIS_DNS_TSIG_BADSIG,    /* the MAC does not verify (5.2.2) */
    OASIS_DNS_TSIG_BADTIME,   /* Time Signed more than Fudge away from now (5.2.3) */
    OASIS_DNS_TSIG_ERROR,     /* authentic, but its Error field is set (5.4.1 - 5.4.4) */
    OASIS_DNS_TSIG_MALFORMED  /* the TSIG RR does not parse */
} oasis_dns_tsig_verdict;

/* Checks the response msg[0 .. len) (parsed into m) to a query signed with
 * key whose MAC was req_mac; now_s is our wall-clock time (seconds since
 * 1970). A truncated MAC (16..31 octets) is compared on its length. */
oasis_dns_tsig_verdict oasis_dns_tsig_check(const oasis_dns_tsig_key *key, uint64_t now_s,
                                            const uint8_t req_mac[OASIS_DNS_TSIG_MAC_LEN],
                                            const uint8_t *msg, size_t len,
                                            const oasis_dns_msg *m);

#endif
