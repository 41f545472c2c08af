/* flow.h - which flow a packet belongs to, for the flow layout.
 *
 * A flow is what stateful dissection follows from packet to packet: the
 * packets between two transport endpoints - IP addresses, protocol and,
 * for TCP, UDP, SCTP, UDP-Lite and DCCP, ports - both directions together.
 * flow_of reads a packet's link, network and transport headers (never its
 * payload) and gives its flow's hash, the same for both directions; an IP
 * fragment also gets the hash of its datagram, so that a fragment without
 * ports can be sent where the datagram's first fragment went. Tunnels are
 * not entered: a packet is of its outermost IP flow. docs/formats.md
 * states the key and the hash, which never change: chunks already made
 * depend on them. */
#ifndef SHARDCAP_FLOW_H
#define SHARDCAP_FLOW_H

#include <stddef.h>
#include <stdint.h>

enum flow_kind {
	FLOW_NONE,      /* not IP, or its headers are not all there */
	FLOW_IP,        /* hash is its flow's */
	FLOW_FRAGMENT,  /* an IP fragment after the first: no ports, only
			 * datagram is known */
};

struct flow {
	enum flow_kind kind;
	uint64_t hash;          /* FLOW_IP: the flow's */
	uint64_t datagram;      /* a fragment's (the first included): of the
				 * addresses, protocol and identification */
	int first_fragment;     /* FLOW_IP that is a datagram's first
				 * fragment, more to come */
};

/* The flow of a packet of caplen bytes on a link of type linktype (the
 * pcap LINKTYPE_ value). */
void flow_of(uint32_t linktype, const uint8_t *p, size_t caplen,
    struct flow *f);

/*
 * Counts flows, and those a split in time cut: seen in more than one
 * chunk. Up to FLOW_COUNT_MAX flows are told apart; once there are more,
 * counting stops, and the counts are lower bounds (exact is 0).
 */
#define FLOW_COUNT_MAX (1u << 17)   /* 2 MiB of table at most */

struct flow_count {
	uint64_t *slot;         /* a flow's hash, where it was last seen,
				 * whether it was cut (flow.c); 0: empty */
	size_t cap, n;
	uint64_t flows, cut;
	int exact;
};

void flow_count_init(struct flow_count *fc);
/* A packet of the flow whose hash is hash, in chunk number chunk. */
void flow_count_add(struct flow_count *fc, uint64_t hash, uint32_t chunk);
void flow_count_release(struct flow_count *fc);

#endif
