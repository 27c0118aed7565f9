/* IP links (OASIS_LINK_IP): bare IP packets, no Ethernet (ip_link.c). */
#ifndef OASIS_LINK_IP_LINK_H
#define OASIS_LINK_IP_LINK_H

#include <stdint.h>

#include "oasis/link.h"

/* The MAC of an IP link's far end in the frames the layers build for it
 * (and in its captures): none, 00:00:00:00:00:00. */
extern const uint8_t oasis_ip_link_far_end[6];

/* Attaches link (NULL: none) as the application's link: an IP link gets
 * the stack's Ethernet face (s->ip_shim) in front of it. Sets s->link,
 * s->app_link and s->link_ip. */
void oasis_ip_link_attach(oasis_stack *s, oasis_link *link);

#endif
